"""The low-code workflow on a Dask DataFrame: ``Experiment.setup(dask_frame)`` and the CLI.

What runs where (and why):

- ``setup`` draws a uniform sample (``dask_sample`` rows, 200,000 by default) and infers the
  schema and fits the pipeline on it, in memory, as for a pandas table; then the statistics
  that every row should decide are fitted by map-reduce over all rows: the means of the
  numeric imputation, and the scaler's statistics (zscore, minmax or maxabs, by the scaler's
  own ``partial_fit`` as the blocks stream past it). Steps after the scaler (PCA ...) are
  refitted on the sample under the exact scaling. Quantile statistics (robust scaling, median
  imputation), encoders' categories and power transforms keep the sample's estimate.
- ``compare_models``, ``create_model`` and ``tune_model`` fit and score on the sample (the
  leaderboard says so); the chosen model is then refitted on every row where a distributed fit
  exists (KMeans, MiniBatchKMeans: from the sample fit's centers; GaussianMixture: from its
  parameters; KMedoids: CLARA whose draws start from its medoids; Birch: one pass) and
  otherwise keeps the fit on the sample, its out-of-sample rule labelling the other rows.
- ``assign_model`` and ``predict_model`` return lazy Dask DataFrames: the user's partitions,
  index and columns plus the label column (written as setup's ``label_format`` says), prepared
  and labelled partition by partition.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from clusterlab.persistence import format_labels

__all__ = ["DaskTable", "assign", "predict_frames", "refit", "setup"]

#: Rows of the uniform sample setup and the model search work on.
DASK_SAMPLE = 200_000


@dataclass(frozen=True, eq=False)
class DaskTable:
    """The Dask DataFrame an experiment was set up on (never modified), and its sample size."""

    data: Any
    n_rows: int
    sample_rows: int

    def features(self, prepared: Any) -> Any:
        """The prepared features of every row: a lazy Dask DataFrame of float64."""
        meta = prepared.X.iloc[:0]
        return self.data.map_partitions(_prepare_partition, prepared.preprocessor, meta, meta=meta)


def _prepare_partition(part: pd.DataFrame, preprocessor: Any, meta: pd.DataFrame) -> pd.DataFrame:
    if len(part) == 0:
        return meta.set_axis(part.index[:0], axis=0)
    return preprocessor.transform(part)


def _refuse(opts: Any) -> None:
    """Options that need every row in memory at once."""
    if opts.outliers.remove_outliers:
        raise ValueError(
            "remove_outliers needs every row in memory; on a Dask DataFrame label the "
            "anomalies with clusterlab.distributed.anomaly_scores after fitting instead"
        )
    if opts.imputation.drops_rows:
        raise ValueError(
            "imputation 'drop' leaves rows without a prepared form; on a Dask DataFrame impute "
            "them (numeric_imputation='mean', categorical_imputation='mode') or drop them first "
            "(df.dropna())"
        )
    if opts.data.data_func is not None or opts.data.index is not True:
        raise ValueError(
            "index= and data_func= are not available for a Dask DataFrame: set the index with "
            "df.set_index(...) before setup"
        )


def setup(data: Any, **options: Any) -> tuple[Any, DaskTable]:
    """The prepared state of a sample of ``data`` with its statistics refined on every row.

    Parameters
    ----------
    data : dask.dataframe.DataFrame
    dask_sample : int, default 200_000
        Rows of the uniform sample (all rows when fewer).
    **options
        The setup options (see :class:`clusterlab.preprocessing.SetupOptions`).

    Returns
    -------
    prepared : clusterlab.workflow.prepared.Prepared
        The state of the sample (what the in-memory steps of the workflow work on).
    table : DaskTable
    """
    from clusterlab.distributed.sample import uniform_sample
    from clusterlab.preprocessing import SetupOptions
    from clusterlab.workflow.prepared import Prepared, prepare

    if not (hasattr(data, "columns") and hasattr(data, "npartitions")):
        raise TypeError(f"setup on Dask needs a Dask DataFrame; got {type(data).__name__}")
    size = options.pop("dask_sample", DASK_SAMPLE)
    _refuse(SetupOptions.parse(**options))
    sample, _ = uniform_sample(data, size, random_state=options.get("session_id"))
    prepared = prepare(sample, **options)
    pre = prepared.preprocessor
    n_rows = _refine_imputer(pre, data) if _mean_imputers(pre) else None
    n_rows = _refine_scaler(pre, data, sample) or n_rows
    if n_rows is None:
        n_rows = int(data.map_partitions(len).sum().compute())
    prepared = Prepared.from_preprocessor(sample, pre)
    return prepared, DaskTable(data, n_rows, len(sample))


# -- statistics from every row ----------------------------------------------------------------


def _mean_imputers(pre: Any) -> list[tuple[Any, list[str]]]:
    """The mean imputers that read raw columns (first step of a column branch)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline

    first = pre.pipeline_.steps[0][1]
    if not isinstance(first, ColumnTransformer):
        return []
    found = []
    for _, branch, columns in first.transformers_:
        head = branch.steps[0][1] if isinstance(branch, Pipeline) else branch
        if isinstance(head, SimpleImputer) and head.strategy == "mean":
            found.append((head, list(columns)))
    return found


def _column_sums(part: pd.DataFrame, columns: list[str]) -> tuple[np.ndarray, np.ndarray, int]:
    values = part[columns].astype("float64")
    return values.sum().to_numpy(), values.count().to_numpy(), len(part)


def _refine_imputer(pre: Any, data: Any) -> int:
    """Mean imputation from every row (one pass); returns the number of rows."""
    from dask import compute, delayed

    imputers = _mean_imputers(pre)
    columns = sorted({c for _, cols in imputers for c in cols})
    parts = compute(*[delayed(_column_sums)(p, columns) for p in data.to_delayed()])
    sums = np.sum([p[0] for p in parts], axis=0)
    counts = np.sum([p[1] for p in parts], axis=0)
    means = dict(zip(columns, sums / np.maximum(counts, 1), strict=True))
    seen = dict(zip(columns, counts > 0, strict=True))
    for imputer, cols in imputers:
        stats = imputer.statistics_.copy()
        for i, c in enumerate(cols):
            # a column the sample saw all missing was dropped by the imputer (NaN): keep that
            if seen[c] and not np.isnan(stats[i]):
                stats[i] = means[c]
        imputer.statistics_ = stats
    return int(sum(p[2] for p in parts))


def _scaler_step(pre: Any) -> int | None:
    from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler, StandardScaler

    for i, (_, step) in enumerate(pre.pipeline_.steps):
        if isinstance(step, StandardScaler | MinMaxScaler | MaxAbsScaler):
            return i
    return None


def _partial_fit_task(scaler: Any, part: pd.DataFrame, head: Any, features: list[str]) -> Any:
    """Task: the scaler after one more block (a copy: tasks are pure)."""
    import copy

    scaler = copy.deepcopy(scaler)
    if len(part):
        scaler.partial_fit(head.transform(part[features]))
    return scaler


def _refine_scaler(pre: Any, data: Any, sample: pd.DataFrame) -> int | None:
    """The scaler's statistics from every row, by its own ``partial_fit`` over the blocks in
    turn; the steps after it refitted on the sample. Returns the number of rows seen."""
    from dask import delayed
    from sklearn.base import clone

    index = _scaler_step(pre)
    if index is None:
        return None
    steps = pre.pipeline_.steps
    head = pre.pipeline_[:index]
    scaler: Any = clone(steps[index][1])
    head = delayed(head, pure=True)  # one key: sent once to each worker, not once per block
    for part in data.to_delayed():
        scaler = delayed(_partial_fit_task, pure=True)(scaler, part, head, pre.features_)
    scaler = scaler.compute()
    steps[index] = (steps[index][0], scaler)
    later = pre.pipeline_[: index + 1].transform(sample[pre.features_])
    for _, step in steps[index + 1 :]:
        later = step.fit(later).transform(later) if hasattr(step, "fit") else later
    return int(scaler.n_samples_seen_) if np.ndim(scaler.n_samples_seen_) == 0 else None


# -- models ------------------------------------------------------------------------------------


def _refit_start(estimator: Any) -> dict[str, Any] | None:
    """The parameters that start a refit on every row from the fit on the sample, or None for
    a model without a distributed fit.

    KMeans and MiniBatchKMeans start from the sample fit's centers, GaussianMixture from its
    weights, means and precisions (one initialisation each); Birch summarises every row in
    one pass and needs no start.
    """
    from clusterlab.cluster.birch import Birch
    from clusterlab.cluster.kmeans import KMeans
    from clusterlab.cluster.minibatch import MiniBatchKMeans
    from clusterlab.cluster.mixture import GaussianMixture

    kind = type(estimator)
    if kind in (KMeans, MiniBatchKMeans):
        return {"init": estimator.cluster_centers_, "n_init": 1}
    if kind is GaussianMixture:
        return {
            "weights_init": estimator.weights_,
            "means_init": estimator.means_,
            "precisions_init": estimator.precisions_,
            "n_init": 1,
        }
    if kind is Birch:
        return {}
    return None


def _seeded_kmedoids(estimator: Any) -> bool:
    """Whether ``estimator`` is a KMedoids that CLARA on Dask can refit (not Gower's distance
    or a precomputed matrix, which need the whole table)."""
    from clusterlab.cluster.medoids import KMedoids

    return (
        type(estimator) is KMedoids
        and not estimator._is_gower()
        and not estimator._is_precomputed()
        and isinstance(estimator.init, str)
    )


def refit(record: Any, prepared: Any, table: DaskTable, metrics: Any) -> Any:
    """The chosen model on every row, where a distributed fit exists (in place).

    The refit starts from the fit on the sample (:func:`_refit_start`; the parameters are set
    for the fit and restored after); the record's sample labels and metrics are those of the
    refitted model. Other models keep the fit on the sample; the note says which.
    """
    from clusterlab.models import out_of_sample_rule
    from clusterlab.workflow.scoring import score

    est = record.estimator
    note = record.metrics.get("Note")
    start = _refit_start(est)
    # as in memory, the models see an array of the prepared features (no column names)
    features = table.features(prepared).to_dask_array()
    if _seeded_kmedoids(est):  # CLARA's draws start from the sample fit's medoids
        from clusterlab.distributed.medoids import fit_kmedoids

        fit_kmedoids(est, features, start=copy.copy(est))
    elif start is None:
        text = f"fitted on a sample of {table.sample_rows:,} of {table.n_rows:,} rows"
        record.metrics["Note"] = f"{note}; {text}" if note else text
        return record
    else:
        original = est.get_params(deep=False)
        est.set_params(**start)
        try:
            est.fit(features)
        finally:
            est.set_params(**{name: original[name] for name in start})
    X = prepared.X.to_numpy()
    record.labels = np.asarray(est.predict(X), dtype=np.int64)
    record.rule = out_of_sample_rule(est).fit(est, X, record.labels)
    y = None if prepared.y is None else prepared.y.to_numpy()
    size = prepared.options.sample_size
    row = score(X, record.labels, y, metrics, sample_size=size, seed=prepared.seed)
    row["Time (s)"] = record.metrics.get("Time (s)")
    text = f"fitted on all {table.n_rows:,} rows (Dask), scored on {table.sample_rows:,}"
    row["Note"] = f"{note}; {text}" if note else text
    record.metrics = row
    return record


def assign(
    record: Any, prepared: Any, data: Any, label_name: str, label_format: str = "integer"
) -> Any:
    """``data`` (a Dask DataFrame) plus the label column, lazily, partition by partition.

    Returns
    -------
    dask.dataframe.DataFrame
        The user's partitions, index and columns, and ``label_name``: int64 (-1 = noise), or
        PyCaret's ``"Cluster 0"`` ... strings with ``label_format='pycaret'``, as in memory.
    """
    if label_name in data.columns:
        raise ValueError(f"label_name {label_name!r} is already a column of the data")
    meta = data._meta.assign(**{label_name: _label_column([], label_format)})
    model = (prepared.preprocessor, record.estimator, record.rule)
    return data.map_partitions(_label_partition, model, label_name, label_format, meta=meta)


def _label_column(labels: Any, label_format: str) -> Any:
    """A partition's labels as ``label_format`` says, with the dtype the meta promises (an
    empty partition's strings would otherwise be objects)."""
    values = format_labels(labels, label_format)
    return values if label_format == "integer" else pd.array(values, dtype="str")


def _label_partition(
    part: pd.DataFrame, model: tuple, label_name: str, label_format: str
) -> pd.DataFrame:
    """Task: a partition plus its labels (prepared and labelled as in memory)."""
    preprocessor, estimator, rule = model
    if len(part) == 0:
        return part.assign(**{label_name: _label_column([], label_format)})
    X = preprocessor.transform(part).to_numpy()
    return part.assign(**{label_name: _label_column(rule.predict(estimator, X), label_format)})


def predict_frames(bundle: Any, data: Any, label_name: str, label_format: str = "integer") -> Any:
    """A loaded model file's labels for a Dask DataFrame: ``bundle.predict_frame`` per partition."""
    meta = data._meta.assign(**{label_name: _label_column([], label_format)})
    return data.map_partitions(_predict_frame, bundle, label_name, label_format, meta=meta)


def _predict_frame(
    part: pd.DataFrame, bundle: Any, label_name: str, label_format: str
) -> pd.DataFrame:
    if len(part) == 0:
        return part.assign(**{label_name: _label_column([], label_format)})
    return bundle.predict_frame(part, label_name=label_name, label_format=label_format)
