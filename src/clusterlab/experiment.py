"""The low-code workflow: one :class:`Experiment` holds the data, fitted pipeline and models.

``setup -> compare_models -> create_model -> assign_model / predict_model -> plot_model -> save``,
with PyCaret's names; :mod:`clusterlab.clustering` is a thin functional shim over one default
Experiment.

Ranking rule (``compare_models(sort='auto')``, and the choice of a density model's key
hyperparameter): every model gets, for each criterion, its rank among the models (1 = best,
ties share the mean rank, a missing score ranks last); models are ordered by the **mean of these
ranks**, ties broken by the Silhouette. The criteria are the internal indices Silhouette (higher
is better), Calinski-Harabasz (higher) and Davies-Bouldin (lower); when some model labels noise,
its coverage (share of rows in a cluster) is a fourth criterion, so that a model cannot win by
calling the hard half of the data noise. A labelling that is not a segmentation of most rows --
more than ``MAX_NOISE_SHARE`` (50%) of the rows noise, or one segment holding more than
``MAX_SEGMENT_SHARE`` (95%) of them -- is ranked after every other model whatever its indices,
and its note says why (internal indices ignore noise, so a model that keeps only two tight
corners of the data would otherwise win). With ground truth, the external indices (ARI, AMI,
homogeneity, completeness) are the criteria instead. One index alone is never the rule;
``sort='<metric>'`` orders by that metric when the user asks for it.

Choosing k (``compare_models``): for every registry model that takes k, k in 2..10 is chosen by
:func:`clusterlab.selection.choose_k` (the gap statistic leads, and the elbow, Silhouette,
Calinski-Harabasz and Davies-Bouldin confirm or decide within its one-standard-error band; BIC
leads for the Gaussian mixture, the eigengap for spectral clustering), seeded with
``session_id``. k-means is given up to ``KMEANS_SEARCH_SIZE`` rows, which choose_k samples itself
(k-means fits on 20,000 rows, Silhouette on 4,000, gap statistic on 1,000); every other model is
fitted for each k by choose_k on all the rows it is given, so it gets a random sample of
``search_size`` rows. The gap statistic's references are refitted by the model itself:
``COMPARE_N_REFS`` references for models other than k-means, whose reference fits are a single
cheap k-means++ run each (choose_k's default of 10). The result is kept per model
(``get_config('k_selection')``, ``plot_model(model, plot='k_selection')`` and ``'elbow'``), and
its reason is the leaderboard's ``k chosen by`` column. K-means and mini-batch k-means then fit
from the centers of choose_k's labelling at the chosen k (``init``), so the model keeps the
optimum choose_k reached rather than a fresh single seeding's.

Metrics are computed on the rows in clusters (noise left out) of the prepared training data; an
O(n²) metric (Silhouette) uses a random sample of ``sample_size`` rows above that size and the
metrics row says so in its ``Note``. A metric that cannot be computed (one cluster only) is NaN,
never 0, with the reason in ``Note``.
"""

from __future__ import annotations

import logging
import math
import numbers
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from clusterlab.models import REGISTRY, ModelEntry, get_entry, out_of_sample_rule, registry_frame
from clusterlab.preprocessing import Preprocessor, SetupOptions, as_frame, prepare_data

__all__ = ["Experiment", "rank_models"]

logger = logging.getLogger(__name__)

NOISE = -1
DEFAULT_K = 4
#: Rows of the sample on which compare_models chooses each model's key hyperparameter.
SEARCH_SIZE = 2_000
#: Below this many prepared values (rows x features) models run with one BLAS/OpenMP thread:
#: on small data, starting threads costs more than it saves (20x slower on a loaded 2-core box).
SMALL_DATA = 2_000_000
_K_RANGE = range(2, 11)
#: Rows given to choose_k for k-means (it samples further inside; see the module docstring).
KMEANS_SEARCH_SIZE = 100_000
#: Gap-statistic references when choose_k picks k for a model other than k-means.
COMPARE_N_REFS = 3


# --------------------------------------------------------------------------------------------
# Metrics in use (records of clusterlab.metrics' registry)
# --------------------------------------------------------------------------------------------

#: Metric ids an experiment scores with by default (internal, then external indices).
DEFAULT_METRICS = (
    "silhouette",
    "calinski_harabasz",
    "davies_bouldin",
    "ari",
    "ami",
    "homogeneity",
    "completeness",
)


def _default_metrics() -> dict[str, Any]:
    from clusterlab.metrics import get_metric

    return {name: get_metric(name) for name in DEFAULT_METRICS}


# --------------------------------------------------------------------------------------------
# Ranking
# --------------------------------------------------------------------------------------------


def rank_models(frame: pd.DataFrame, criteria: list[tuple[str, bool]]) -> pd.Series:
    """Mean rank of each row over ``criteria`` (column, greater_is_better); lower is better.

    A missing score ranks last; ties share the mean rank.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"Silhouette": [0.5, 0.7], "Davies-Bouldin": [0.4, 0.9]}, index=["a", "b"])
    >>> rank_models(f, [("Silhouette", True), ("Davies-Bouldin", False)]).tolist()
    [1.5, 1.5]
    """
    ranks = []
    for col, greater in criteria:
        if col not in frame:
            continue
        values = pd.to_numeric(frame[col], errors="coerce")
        ranks.append(values.rank(ascending=not greater, method="average", na_option="bottom"))
    if not ranks:
        return pd.Series(np.zeros(len(frame)), index=frame.index)
    return pd.concat(ranks, axis=1).mean(axis=1)


#: Above this share of noise rows a labelling is ranked after every other (see the module doc).
MAX_NOISE_SHARE = 0.5
#: Above this share of rows in one segment a labelling is ranked after every other.
MAX_SEGMENT_SHARE = 0.95


def _degenerate(frame: pd.DataFrame) -> pd.Series:
    """Why each row is not a segmentation of most of the data ('' when it is one)."""
    noise = pd.to_numeric(frame.get("Noise", 0.0), errors="coerce").fillna(0.0)
    largest = pd.to_numeric(frame.get("Largest segment", 0.0), errors="coerce").fillna(0.0)
    why = pd.Series("", index=frame.index, dtype=object)
    why[largest > MAX_SEGMENT_SHARE] = [
        f"ranked last: one segment holds {v:.0%} of the rows"
        for v in largest[largest > MAX_SEGMENT_SHARE]
    ]
    why[noise > MAX_NOISE_SHARE] = [
        f"ranked last: {v:.0%} of the rows are noise" for v in noise[noise > MAX_NOISE_SHARE]
    ]
    return why


def _order(
    frame: pd.DataFrame, criteria: list[tuple[str, bool]], *, demote: bool = True
) -> pd.DataFrame:
    score = rank_models(frame, criteria)
    tie = pd.to_numeric(frame[criteria[0][0]], errors="coerce") if criteria else 0
    why = _degenerate(frame) if demote else pd.Series("", index=frame.index, dtype=object)
    keys = pd.DataFrame(
        {
            "last": why != "",
            "rank": score,
            "tie": -tie if criteria and criteria[0][1] else tie,
        }
    )
    order = keys.sort_values(["last", "rank", "tie"], na_position="last", kind="stable").index
    out = frame.loc[order].copy()
    out.insert(0, "Mean rank", score.loc[order].round(3))
    if "Note" in out and why.loc[order].ne("").any():
        notes = out["Note"].fillna("").astype(str)
        extra = why.loc[order]
        out["Note"] = ["; ".join(t for t in (e, n) if t) for e, n in zip(extra, notes, strict=True)]
    return out


# --------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------


@dataclass
class FittedModel:
    """What the experiment keeps about a model it fitted."""

    model_id: str
    estimator: Any
    labels: np.ndarray
    rule: Any
    params: dict[str, Any]
    metrics: dict[str, Any] = field(default_factory=dict)
    #: How compare_models chose k (a ``clusterlab.selection.ChooseKResult``), else None.
    selection: Any = None


def _labels_of(estimator: Any, X: np.ndarray) -> np.ndarray:
    labels = getattr(estimator, "labels_", None)
    if labels is None:
        labels = estimator.predict(X)
    return np.asarray(labels, dtype=np.int64)


def _json_safe(value: Any) -> Any:
    if isinstance(value, bool | str | type(None)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    return repr(value)


def _is_estimator(model: Any) -> bool:
    return hasattr(model, "fit") and hasattr(model, "get_params")


# --------------------------------------------------------------------------------------------
# The experiment
# --------------------------------------------------------------------------------------------


class Experiment:
    """A clustering experiment: data, the fitted preprocessing pipeline, models and results.

    Parameters
    ----------
    data : DataFrame, array or path, optional
        When given, :meth:`setup` runs with ``setup_options``.
    **setup_options
        See :meth:`setup`.

    Examples
    --------
    >>> from clusterlab import Experiment
    >>> from clusterlab.datasets import load_wholesale_customers
    >>> exp = Experiment(load_wholesale_customers(), normalize=True, session_id=0, verbose=False)
    >>> km = exp.create_model("kmeans", num_clusters=3)
    >>> exp.assign_model(km)["Cluster"].nunique()
    3
    """

    def __init__(self, data: Any = None, **setup_options: Any) -> None:
        self._metrics: dict[str, Any] = _default_metrics()
        self._fitted: dict[int, FittedModel] = {}
        self._k_selection: dict[str, Any] = {}
        self._last: pd.DataFrame | None = None
        self._pre: Preprocessor | None = None
        self.search_size = SEARCH_SIZE
        if data is not None or setup_options.get("data_func") is not None:
            self.setup(data, **setup_options)
        elif setup_options:
            raise TypeError("Experiment: setup options were given without data")

    # ---------------------------------------------------------------- setup and configuration

    def setup(self, data: Any = None, **options: Any) -> Experiment:
        """Infer the schema, fit the preprocessing pipeline once and prepare the features.

        Parameters
        ----------
        data : DataFrame, 2-D array or str path, optional
            The table to segment; it is never modified. Give it or ``data_func``.
        **options
            Every keyword of PyCaret 3's ``pycaret.clustering.setup`` (``index``, ``data_func``,
            ``keep_features``, ``preprocess``, ``imputation_type``, ``rare_to_value``,
            ``polynomial_features``, ``bin_numeric_features``, ``custom_pipeline``, ``memory``,
            ``n_jobs``, ``engines``, the experiment-logging options ...) and clusterlab's own
            (``ground_truth``, ``log_transform``, ``sample_size`` ...), grouped and documented
            by :class:`~clusterlab.setup_options.SetupOptions`.

        Returns
        -------
        Experiment
            ``self``.
        """
        opts = SetupOptions.parse(**options)
        frame = prepare_data(data, opts.data)
        pre = Preprocessor(opts).fit(frame)
        self.options = opts
        self.data_ = frame
        self._pre = pre
        self.X_all_ = pre.transform(frame)
        self.X_ = self.X_all_.loc[pre.train_mask_]
        gt = opts.columns.ground_truth
        self.y_ = frame.loc[pre.train_mask_, gt] if gt is not None else None
        self._fitted.clear()
        self._k_selection.clear()
        summary = self._setup_summary()
        self._last = summary
        if opts.verbose:
            self._show(pre.schema_.reset_index(), "Inferred schema")
            self._show(summary.reset_index(), "Setup")
        return self

    def _setup_summary(self) -> pd.DataFrame:
        pre, opts = self._pre, self.options
        dropped = pre.dropped_.value_counts()
        rows = {
            "Session id": opts.session_id,
            "Original data shape": self.data_.shape,
            "Prepared data shape": self.X_.shape,
            "Feature columns": len(pre.features_),
            "Ground truth": opts.columns.ground_truth,
            "Rows left out (missing values)": int(dropped.get("missing values", 0)),
            "Rows left out (outliers)": int(dropped.get("outlier", 0)),
            "Pipeline steps": ", ".join(name for name, _ in pre.pipeline_.steps),
        }
        return pd.DataFrame(
            {"Value": [str(v) for v in rows.values()]}, index=list(rows)
        ).rename_axis("Description")

    def _require_setup(self) -> Preprocessor:
        if self._pre is None:
            raise RuntimeError("run setup(data, ...) first: this experiment has no data yet")
        return self._pre

    @property
    def verbose(self) -> bool:
        return bool(self._pre is not None and self.options.verbose)

    def _seed(self) -> int | None:
        return self.options.session_id

    _CONFIG_NAMES = (
        "data",
        "X",
        "X_transformed",
        "X_all",
        "y",
        "pipeline",
        "schema",
        "train_mask",
        "dropped",
        "session_id",
        "seed",
        "sample_size",
        "search_size",
        "verbose",
        "options",
        "k_selection",
    )

    def get_config(self, variable: str | None = None) -> Any:
        """Return a setup variable; with no name, the list of names.

        ``'X_transformed'`` (and ``'X'``) is the prepared feature frame of the training rows,
        ``'X_all'`` the prepared frame of every input row, ``'pipeline'`` the fitted scikit-learn
        pipeline, ``'schema'`` the inferred schema, ``'dropped'`` why rows were left out,
        ``'k_selection'`` a dict of model id -> :class:`~clusterlab.selection.ChooseKResult`
        for the models whose k the last :meth:`compare_models` chose.
        """
        if variable is None:
            return list(self._CONFIG_NAMES)
        if variable not in self._CONFIG_NAMES:
            raise ValueError(f"variable must be one of {self._CONFIG_NAMES}; got {variable!r}")
        if variable == "search_size":
            return self.search_size
        pre = self._require_setup()
        values = {
            "data": lambda: self.data_,
            "X": lambda: self.X_,
            "X_transformed": lambda: self.X_,
            "X_all": lambda: self.X_all_,
            "y": lambda: self.y_,
            "pipeline": lambda: pre.pipeline_,
            "schema": lambda: pre.schema_,
            "train_mask": pre.train_mask_.copy,
            "dropped": lambda: pre.dropped_,
            "session_id": lambda: self.options.session_id,
            "seed": lambda: self.options.session_id,
            "sample_size": lambda: self.options.sample_size,
            "verbose": lambda: self.options.verbose,
            "options": lambda: self.options,
            "k_selection": lambda: dict(self._k_selection),
        }
        return values[variable]()

    def set_config(self, variable: str, value: Any) -> None:
        """Change ``session_id`` / ``seed``, ``sample_size``, ``search_size`` or ``verbose``."""
        settable = ("session_id", "seed", "sample_size", "search_size", "verbose")
        if variable not in settable:
            raise ValueError(f"variable must be one of {settable}; got {variable!r}")
        if variable == "search_size":
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 50:
                raise ValueError(f"search_size must be an int >= 50; got {value!r}")
            self.search_size = int(value)
            return
        self._require_setup()
        name = "session_id" if variable == "seed" else variable
        if name == "verbose":
            self.options.verbose = bool(value)
            return
        SetupOptions.parse(**{name: value})  # validates
        setattr(self.options, name, value)

    # ---------------------------------------------------------------------- display

    def _show(self, frame: pd.DataFrame, title: str) -> None:
        from rich.console import Console
        from rich.table import Table

        table = Table(title=title)
        for col in frame.columns:
            table.add_column(str(col))
        for row in frame.itertuples(index=False):
            table.add_row(*[_fmt(v) for v in row])
        Console().print(table)

    def pull(self) -> pd.DataFrame:
        """The last table shown (setup summary, metrics row, leaderboard or search table)."""
        if self._last is None:
            raise RuntimeError("nothing to pull yet: run setup, create_model or compare_models")
        return self._last.copy()

    # ---------------------------------------------------------------------- metrics

    def get_metrics(self) -> pd.DataFrame:
        """The metrics used to score models, indexed by id."""
        rows = [
            {
                "ID": m.name,
                "Name": m.display_name,
                "Greater is better": m.greater_is_better,
                "Needs ground truth": m.needs_ground_truth,
                "Cost": m.cost,
                "Custom": _is_custom(m),
            }
            for m in self._metrics.values()
        ]
        return pd.DataFrame(rows).set_index("ID")

    def add_metric(
        self,
        id: str,
        name: str,
        score_func: Callable[..., float],
        greater_is_better: bool = True,
        needs_ground_truth: bool = False,
    ) -> pd.Series:
        """Add a metric ``score_func(X, labels)`` (``score_func(y, labels)`` with ground truth)."""
        if not isinstance(id, str) or not id:
            raise ValueError(f"id must be a non-empty str; got {id!r}")
        if id in self._metrics:
            raise ValueError(f"id {id!r} is already a metric; remove_metric({id!r}) first")
        if not callable(score_func):
            raise TypeError(f"score_func must be callable; got {score_func!r}")
        from clusterlab.metrics import Metric

        # a custom metric is scored on every row (cost O(n)): it is never sampled
        self._metrics[id] = Metric(
            id,
            str(name),
            score_func,
            greater_is_better=bool(greater_is_better),
            needs_ground_truth=bool(needs_ground_truth),
            cost="O(n)",
            needs_features=not needs_ground_truth,
        )
        return self.get_metrics().loc[id]

    def remove_metric(self, name_or_id: str) -> None:
        """Remove a metric by id or display name."""
        for key, m in list(self._metrics.items()):
            if name_or_id in (key, m.display_name):
                del self._metrics[key]
                return
        raise ValueError(
            f"metric {name_or_id!r} is not in use (in use: {', '.join(self._metrics)})"
        )

    def _get_metric(self, name: str) -> Any:
        """A metric in use by id or display name, else any metric of clusterlab.metrics."""
        from clusterlab.metrics import get_metric

        for key, m in self._metrics.items():
            if name in (key, m.display_name) or name.lower() == m.display_name.lower():
                return m
        return get_metric(name)

    def _score(self, X: np.ndarray, labels: np.ndarray, y: np.ndarray | None) -> dict[str, Any]:
        """Every metric for one labelling (internal ones on the non-noise rows)."""
        notes: list[str] = []
        in_cluster = labels != NOISE
        n_clusters = int(np.unique(labels[in_cluster]).size)
        row: dict[str, Any] = {}
        Xc, lc = X[in_cluster], labels[in_cluster]
        for m in self._metrics.values():
            if m.needs_ground_truth:
                if y is None:
                    continue
                try:
                    row[m.display_name] = float(m.function(y, labels))
                except Exception as exc:  # a metric failure is shown, never turned into 0
                    row[m.display_name] = math.nan
                    notes.append(f"{m.display_name}: {exc}")
                continue
            if n_clusters < 2 or n_clusters >= len(lc):
                row[m.display_name] = math.nan
                continue
            Xm, lm = Xc, lc
            if m.cost == "O(n²)" and len(lc) > self.options.sample_size:
                rng = np.random.default_rng(self._seed())
                rows = rng.choice(len(lc), self.options.sample_size, replace=False)
                Xm, lm = Xc[rows], lc[rows]
                if np.unique(lm).size < 2:
                    Xm, lm = Xc, lc
                else:
                    notes.append(f"{m.display_name} on a {self.options.sample_size:,}-row sample")
            try:
                row[m.display_name] = float(m.function(Xm, lm))
            except Exception as exc:
                row[m.display_name] = math.nan
                notes.append(f"{m.display_name}: {exc}")
        if n_clusters < 2:
            notes.append(f"{n_clusters} cluster(s): internal indices undefined")
        row["Clusters"] = n_clusters
        row["Noise"] = float(np.mean(~in_cluster))
        sizes = np.bincount(labels[in_cluster]) if n_clusters else np.zeros(1)
        row["Largest segment"] = float(sizes.max() / len(labels))
        row["Note"] = "; ".join(notes)
        return row

    def _criteria(self, frame: pd.DataFrame, sort: str, has_truth: bool) -> list[tuple[str, bool]]:
        if sort != "auto":
            m = self._get_metric(sort)
            return [(m.display_name, m.greater_is_better)]
        criteria = [
            (m.display_name, m.greater_is_better)
            for m in self._metrics.values()
            if m.needs_ground_truth == has_truth
        ]
        if not has_truth and "Noise" in frame and (pd.to_numeric(frame["Noise"]) > 0).any():
            frame["Coverage"] = 1.0 - pd.to_numeric(frame["Noise"])
            criteria.append(("Coverage", True))
        return criteria

    # ---------------------------------------------------------------------- models

    def models(self, internal: bool = False) -> pd.DataFrame:
        """The model registry as a DataFrame indexed by id.

        Examples
        --------
        >>> bool(Experiment().models().loc["hclust", "Native predict"])
        False
        """
        frame = registry_frame()
        if not internal:
            frame = frame.drop(columns=["Key parameter"])
        return frame

    def _resolve(
        self, model: Any, num_clusters: int | None, params: dict[str, Any]
    ) -> tuple[str, ModelEntry | None, Any, dict[str, Any]]:
        """(model id, entry, unfitted estimator, parameters set) for a model id or an estimator."""
        from sklearn.base import clone

        X = self.X_
        if isinstance(model, str):
            entry = get_entry(model)
            params = dict(params)
            if num_clusters is not None:
                if not entry.needs_k:
                    raise ValueError(
                        f"num_clusters is meaningless for {entry.id!r}: it finds the number of "
                        f"clusters itself (set {entry.key_param} instead)"
                    )
                params[entry.key_param] = num_clusters
            params = {**self._default_params(entry, X.to_numpy(), params), **params}
            if entry.needs_k:
                _check_k(params[entry.key_param], len(X))
            return entry.id, entry, entry.factory(**params), params
        if _is_estimator(model):
            est = clone(model)
            if num_clusters is not None:
                key = "n_clusters" if "n_clusters" in est.get_params() else "n_components"
                if key not in est.get_params():
                    raise ValueError(
                        f"num_clusters is meaningless for {type(model).__name__}: "
                        "it has no n_clusters / n_components parameter"
                    )
                params = {**params, key: num_clusters}
                _check_k(num_clusters, len(X))
            if params:
                est.set_params(**params)
            return type(model).__name__, None, est, params
        raise TypeError(
            f"model must be a model id ({', '.join(REGISTRY)}) or a scikit-learn-compatible "
            f"estimator; got {model!r}"
        )

    def _default_params(
        self, entry: ModelEntry, X: np.ndarray, given: dict[str, Any]
    ) -> dict[str, Any]:
        """Data-dependent defaults: k = 4, eps from the k-distance knee, seeds from session_id."""
        out: dict[str, Any] = {}
        seed = self._seed()
        if entry.random_state_param and seed is not None:
            out[entry.random_state_param] = seed
        if entry.needs_k and entry.key_param not in given:
            out[entry.key_param] = min(DEFAULT_K, len(X))
        if entry.id == "dbscan" and "eps" not in given:
            out["eps"] = knee_eps(X, given.get("min_samples", 5), self.search_size, seed)
        if entry.id == "hdbscan" and "min_cluster_size" not in given:
            out["min_cluster_size"] = max(5, len(X) // 100)
        if entry.id == "meanshift" and "bandwidth" not in given:
            from sklearn.cluster import estimate_bandwidth

            out["bandwidth"] = (
                float(
                    estimate_bandwidth(
                        X, n_samples=min(len(X), self.search_size), random_state=seed
                    )
                )
                or 1.0
            )
        return out

    def _fit(
        self, model_id: str, entry: ModelEntry | None, est: Any, params: dict[str, Any]
    ) -> FittedModel:
        from clusterlab._config import check_memory

        X = self.X_.to_numpy()
        if entry is not None and entry.memory == "O(n²)":
            check_memory(
                8.0 * len(X) ** 2,
                what=f"{entry.name} on {len(X):,} rows (an n x n matrix)",
                alternative="use 'kmeans', 'birch' or 'hdbscan', or sample the data",
            )
        est.fit(X)
        labels = _labels_of(est, X)
        rule = out_of_sample_rule(est).fit(est, X, labels)
        y = None if self.y_ is None else self.y_.to_numpy()
        record = FittedModel(model_id, est, labels, rule, params)
        record.metrics = self._score(X, labels, y)
        self._fitted[id(est)] = record
        return record

    def _threads(self) -> Any:
        """Setup's ``n_jobs`` threads (numba, BLAS, OpenMP); one for small data (``SMALL_DATA``)."""
        import contextlib

        from threadpoolctl import threadpool_limits

        from clusterlab._config import effective_n_jobs, threads

        n_jobs = 1 if self.X_.size < SMALL_DATA else self.options.runtime.threads
        if n_jobs == -1:
            return contextlib.nullcontext()  # every core: the default
        stack = contextlib.ExitStack()
        stack.enter_context(threads(n_jobs))
        # OpenMP too (scikit-learn)
        stack.enter_context(threadpool_limits(limits=effective_n_jobs(n_jobs)))
        return stack

    def _record(self, model: Any) -> FittedModel:
        record = self._fitted.get(id(model))
        if record is None or record.estimator is not model:
            raise ValueError(
                f"model {type(model).__name__} was not fitted by this experiment; pass it "
                "through create_model first (or load a saved model with load_model)"
            )
        return record

    def _metrics_frame(self, record: FittedModel) -> pd.DataFrame:
        frame = pd.DataFrame([record.metrics], index=pd.Index([record.model_id], name="Model"))
        return frame

    def create_model(
        self,
        model: Any,
        num_clusters: int | None = None,
        ground_truth: str | None = None,
        verbose: bool | None = None,
        **params: Any,
    ) -> Any:
        """Fit a model on the prepared data, score it, and return the fitted estimator.

        Parameters
        ----------
        model : str or estimator
            A registry id (see :meth:`models`) or any scikit-learn-compatible estimator.
        num_clusters : int, optional
            k for models that take one (default 4); an error for models that do not.
        ground_truth : str, optional
            A column of the original data used only by external metrics (never a feature).
        **params
            Passed to the estimator.

        Returns
        -------
        estimator
            Fitted; its metrics row is available through :meth:`pull`.
        """
        self._require_setup()
        with self._truth(ground_truth), self._threads():
            model_id, entry, est, used = self._resolve(model, num_clusters, params)
            start = time.perf_counter()
            record = self._fit(model_id, entry, est, used)
            record.metrics["Time (s)"] = round(time.perf_counter() - start, 3)
        frame = self._metrics_frame(record)
        self._last = frame
        if self._verbose(verbose):
            self._show(frame.reset_index(), f"create_model({model_id!r})")
        return record.estimator

    def _verbose(self, verbose: bool | None) -> bool:
        return self.verbose if verbose is None else bool(verbose)

    def _truth(self, ground_truth: str | None) -> Any:
        """Context: temporarily use ``ground_truth`` (a column of the original data)."""
        import contextlib

        exp = self

        @contextlib.contextmanager
        def ctx() -> Any:
            if ground_truth is None:
                yield
                return
            if ground_truth not in exp.data_.columns:
                raise ValueError(f"ground_truth {ground_truth!r} is not a column of the data")
            if ground_truth in exp._pre.features_:
                raise ValueError(
                    f"ground_truth {ground_truth!r} is a feature of this setup; pass "
                    f"ground_truth={ground_truth!r} (or ignore_features) to setup instead"
                )
            old = exp.y_
            exp.y_ = exp.data_.loc[exp._pre.train_mask_, ground_truth]
            try:
                yield
            finally:
                exp.y_ = old

        return ctx()

    # ---------------------------------------------------------------------- labels out

    def _predict_prepared(self, record: FittedModel, X: np.ndarray) -> np.ndarray:
        return record.rule.predict(record.estimator, X)

    def assign_model(
        self, model: Any, label_name: str = "Cluster", probabilities: bool = False
    ) -> pd.DataFrame:
        """The original data (values, index, column order) plus the label column (-1 = noise).

        Rows that setup left out of training (outliers, ``imputation='drop'``) are labelled by
        the model's out-of-sample rule and flagged in ``<label_name>_predicted``; the length is
        always the input's. ``probabilities=True`` adds membership columns for models that give
        them (``predict_proba``, or HDBSCAN's ``probabilities_`` for the training rows).
        """
        pre = self._require_setup()
        record = self._record(model)
        out = self.data_.copy()
        if label_name in out.columns:
            raise ValueError(f"label_name {label_name!r} is already a column of the data")
        labels = np.empty(len(out), dtype=np.int64)
        mask = pre.train_mask_
        labels[mask] = record.labels
        if not mask.all():
            labels[~mask] = self._predict_prepared(record, self.X_all_.to_numpy()[~mask])
        out[label_name] = labels
        if not mask.all():
            out[f"{label_name}_predicted"] = ~mask
        if probabilities:
            self._add_probabilities(out, record, label_name)
        return out

    def _add_probabilities(self, out: pd.DataFrame, record: FittedModel, label_name: str) -> None:
        est = record.estimator
        if hasattr(est, "predict_proba"):
            proba = est.predict_proba(self.X_all_.to_numpy())
            for j in range(proba.shape[1]):
                out[f"{label_name}_proba_{j}"] = proba[:, j]
        elif hasattr(est, "probabilities_"):
            col = np.full(len(out), np.nan)
            col[self._pre.train_mask_] = est.probabilities_
            out[f"{label_name}_membership"] = col
        else:
            raise ValueError(
                f"probabilities=True needs a model with membership probabilities "
                f"(predict_proba or probabilities_); {record.model_id!r} has none"
            )
        if hasattr(est, "outlier_scores_"):
            col = np.full(len(out), np.nan)
            col[self._pre.train_mask_] = est.outlier_scores_
            out[f"{label_name}_outlier_score"] = col

    def predict_model(self, model: Any, data: Any, label_name: str = "Cluster") -> pd.DataFrame:
        """Label new data: its original columns plus the label column.

        ``model`` is a model this experiment fitted or what :func:`load_model` returned.
        """
        from clusterlab.persistence import ClusterPipeline

        frame = as_frame(data)
        if isinstance(model, ClusterPipeline):
            return model.predict_frame(frame, label_name=label_name)
        pre = self._require_setup()
        record = self._record(model)
        X = pre.transform(frame).to_numpy()
        out = frame.copy()
        out[label_name] = self._predict_prepared(record, X)
        return out

    # ---------------------------------------------------------------------- compare

    def compare_models(  # noqa: PLR0917 - PyCaret's positional order
        self,
        include: Iterable[Any] | None = None,
        exclude: Iterable[str] | None = None,
        sort: str = "auto",
        n_select: int = 1,
        budget_time: float | None = None,
        turbo: bool = True,
        verbose: bool | None = None,
    ) -> Any:
        """Fit every applicable model with its key hyperparameter chosen, score and rank them.

        k is chosen by :func:`clusterlab.selection.choose_k` (see the module docstring for the
        rows and references it gets); its result is kept per model id
        (``get_config('k_selection')``, ``plot_model(model, plot='k_selection')``) and its
        reason is the leaderboard's ``k chosen by`` column. min_cluster_size (HDBSCAN) is chosen
        on a sample of at most ``search_size`` rows by the ranking rule of this module, eps and
        bandwidth from the data (see :meth:`create_model`). The model is then fitted on all the
        training rows. Models that cannot run at this n are skipped with the reason
        (memory: an n x n matrix over the budget; ``turbo``: slow in time above their limit).
        ``budget_time`` is in minutes, as in PyCaret. The leaderboard is available via
        :meth:`pull`.

        Returns
        -------
        estimator or list of estimators
            The best model, or the ``n_select`` best.
        """
        self._require_setup()
        if isinstance(n_select, bool) or not isinstance(n_select, numbers.Integral) or n_select < 1:
            raise ValueError(f"n_select must be an int >= 1; got {n_select!r}")
        if sort != "auto":
            self._get_metric(sort)
        candidates = self._candidates(include, exclude)
        rows, fitted, skipped = [], {}, []
        start_all = time.perf_counter()
        with self._threads(), self._progress(len(candidates), verbose) as progress:
            for model in candidates:
                label = model if isinstance(model, str) else type(model).__name__
                reason = self._skip_reason(model, turbo, start_all, budget_time)
                if reason is None:
                    try:
                        rows.append(self._compare_one(model, label, fitted))
                    except (MemoryError, ValueError) as exc:
                        reason = f"failed: {exc}"
                if reason is not None:
                    skipped.append({"Model": label, "Note": f"skipped: {reason}"})
                progress.advance(label)
        if not rows:
            raise RuntimeError(
                "compare_models fitted no model: "
                + "; ".join(f"{s['Model']}: {s['Note']}" for s in skipped)
            )
        board = pd.DataFrame(rows).set_index("Model")
        criteria = self._criteria(board, sort, self.y_ is not None)
        board = _order(board, criteria, demote=sort == "auto")
        if skipped:
            board = pd.concat([board, pd.DataFrame(skipped).set_index("Model")])
            board["Clusters"] = board["Clusters"].astype("Int64")
        self._last = board
        if self._verbose(verbose):
            self._show(board.reset_index(), "compare_models")
        best = [fitted[m] for m in board.index[: len(rows)][:n_select]]
        return best[0] if n_select == 1 else best

    def _compare_one(self, model: Any, label: str, fitted: dict[str, Any]) -> dict[str, Any]:
        start = time.perf_counter()
        params, selection = self._choose_key(model)
        model_id, entry, est, used = self._resolve(model, None, params)
        record = self._fit(model_id, entry, est, used)
        record.selection = selection
        if selection is not None:
            self._k_selection[model_id] = selection
        fitted[model_id] = record.estimator
        return {
            "Model": model_id,
            "Name": entry.name if entry else label,
            "Parameters": _param_text(entry, used),
            **record.metrics,
            "Time (s)": round(time.perf_counter() - start, 3),
            "k chosen by": selection.reason if selection is not None else "",
        }

    def _candidates(self, include: Iterable[Any] | None, exclude: Iterable[str] | None) -> list:
        if include is None:
            candidates: list[Any] = list(REGISTRY)
        else:
            candidates = [get_entry(m).id if isinstance(m, str) else m for m in include]
            for m in candidates:
                if not isinstance(m, str) and not _is_estimator(m):
                    raise TypeError(f"include must hold model ids or estimators; got {m!r}")
        for m in exclude or ():
            candidates.remove(get_entry(m).id) if get_entry(m).id in candidates else None
        if not candidates:
            raise ValueError("include / exclude leave no model to compare")
        return candidates

    def _skip_reason(
        self, model: Any, turbo: bool, start: float, budget_time: float | None
    ) -> str | None:
        if budget_time is not None and time.perf_counter() - start > 60.0 * budget_time:
            return f"budget_time of {budget_time} min used up"
        if not isinstance(model, str):
            return None
        entry = REGISTRY[model]
        n = len(self.X_)
        if entry.memory == "O(n²)":
            from clusterlab._config import get_config

            need = 8.0 * n * n / 2**20
            budget = get_config()["memory_budget"]
            if need > budget:
                return (
                    f"an n x n matrix needs {need:,.0f} MiB, over the budget of {budget:,.0f} MiB"
                )
        if turbo and entry.turbo_max_n is not None and n > entry.turbo_max_n:
            return f"slow above {entry.turbo_max_n:,} rows (turbo=True); pass turbo=False to run it"
        return None

    def _search_sample(self, size: int | None = None) -> np.ndarray:
        """The prepared training rows, or a random sample (seeded by session_id) of ``size``
        rows (default ``search_size``) when there are more."""
        size = self.search_size if size is None else size
        X = self.X_.to_numpy()
        if len(X) <= size:
            return X
        rng = np.random.default_rng(self._seed())
        return X[np.sort(rng.choice(len(X), size, replace=False))]

    def _choose_key(self, model: Any) -> tuple[dict[str, Any], Any]:
        """The key hyperparameter chosen for ``model``, and choose_k's result when it was k."""
        if not isinstance(model, str):
            return {}, None
        entry = REGISTRY[model]
        if entry.needs_k:
            X = self._search_sample(KMEANS_SEARCH_SIZE if entry.id == "kmeans" else None)
            selection = self._choose_k(entry, X)
            params = {entry.key_param: selection.best_k}
            if entry.warm_init:
                params.update(_warm_init(X, selection))
            return params, selection
        if entry.id == "hdbscan":
            return self._choose_min_cluster_size(entry, self.X_.to_numpy()), None
        return {}, None  # eps, bandwidth: data-dependent defaults (see _default_params)

    def _choose_k(self, entry: ModelEntry, X: np.ndarray) -> Any:
        """choose_k for a registry model that takes k (rows and references: module docstring)."""
        import warnings

        from sklearn.exceptions import ConvergenceWarning

        from clusterlab.selection import choose_k

        kmeans = entry.id == "kmeans"
        ks = [k for k in _K_RANGE if k <= len(X) - 1]
        if len(ks) < 2:
            raise ValueError(
                f"too few rows ({len(X)}) to choose k: choosing among at least two values of k "
                "needs 4 rows or more"
            )
        base = entry.factory(**self._default_params(entry, X, {entry.key_param: ks[0]}))
        with warnings.catch_warnings():
            # a k larger than the data supports shows in the scores, not as a warning
            warnings.simplefilter("ignore", ConvergenceWarning)
            return choose_k(
                X,
                model=base,
                k_range=ks,
                random_state=self._seed(),
                n_refs=10 if kmeans else COMPARE_N_REFS,
            )

    def _choose_min_cluster_size(self, entry: ModelEntry, X: np.ndarray) -> dict[str, Any]:
        sample = self._search_sample()
        scale = len(X) / len(sample)
        rows = {}
        for size in (5, 10, 20, 50):
            if size * 2 > len(sample):
                break
            labels = entry.factory(min_cluster_size=size).fit(sample).labels_
            rows[size] = self._score(sample, np.asarray(labels, dtype=np.int64), None)
        if not rows:
            return {}
        frame = pd.DataFrame.from_dict(rows, orient="index")
        best = int(_order(frame, self._criteria(frame, "auto", False)).index[0])
        return {"min_cluster_size": max(2, round(best * scale))}

    def _progress(self, total: int, verbose: bool | None) -> _Progress:
        return _Progress(total, self._verbose(verbose))

    # ---------------------------------------------------------------------- tune

    def tune_model(  # noqa: PLR0917 - PyCaret's positional order
        self,
        model: Any,
        search_space: dict[str, list] | None = None,
        optimize: str | Callable[..., float] | None = None,
        n_iter: int = 10,
        ground_truth: str | None = None,
        verbose: bool | None = None,
    ) -> Any:
        """Search hyperparameters and return the best model, fitted on all training rows.

        Parameters
        ----------
        model : str or estimator
            A registry id, or a model fitted by this experiment (its parameters are the start).
        search_space : dict, optional
            Parameter -> list of values; default: the registry's space for the id.
        optimize : str or callable, optional
            A metric id / name, or ``callable(X, labels) -> float`` (greater is better).
            Default: ``'silhouette'``, or ``'ari'`` when ground truth is available.
        n_iter : int
            Number of parameter settings sampled from the space.
        ground_truth : str, optional
            Column used by an external ``optimize`` metric.
        """
        from sklearn.model_selection import ParameterGrid, ParameterSampler

        self._require_setup()
        if isinstance(n_iter, bool) or not isinstance(n_iter, numbers.Integral) or n_iter < 1:
            raise ValueError(f"n_iter must be an int >= 1; got {n_iter!r}")
        with self._truth(ground_truth):
            base_model, base_params = self._tune_base(model)
            space = self._tune_space(base_model, search_space)
            score_fn, name, greater = self._tune_objective(optimize)
            grid = list(ParameterGrid(space))
            if len(grid) > n_iter:
                grid = list(ParameterSampler(space, n_iter, random_state=self._seed()))
            rows = []
            for setting in grid:
                params = {**base_params, **setting}
                start = time.perf_counter()
                try:
                    model_id, entry, est, used = self._resolve(base_model, None, params)
                    with self._threads():
                        record = self._fit(model_id, entry, est, used)
                    self._fitted.pop(id(est), None)
                    value = score_fn(record)
                except (ValueError, MemoryError) as exc:
                    value, record = math.nan, None
                    error = str(exc)
                else:
                    error = ""
                rows.append(
                    {
                        **{k: _json_safe(v) for k, v in setting.items()},
                        "Error": error,
                        name: value,
                        "Clusters": record.metrics["Clusters"] if record else math.nan,
                        "Time (s)": round(time.perf_counter() - start, 3),
                    }
                )
            table = pd.DataFrame(rows)
            ok = table[name].notna()
            if not ok.any():
                raise RuntimeError(f"tune_model: no setting could be scored by {name}")
            table = table.sort_values(name, ascending=not greater, na_position="last")
            best = grid[int(table.index[0])]
            final = self.create_model(base_model, verbose=False, **{**base_params, **best})
        self._last = table.reset_index(drop=True)
        if self._verbose(verbose):
            self._show(self._last, f"tune_model (optimize={name})")
        return final

    def _tune_base(self, model: Any) -> tuple[Any, dict[str, Any]]:
        if isinstance(model, str):
            return get_entry(model).id, {}
        record = self._fitted.get(id(model))
        if record is not None and record.model_id in REGISTRY:
            return record.model_id, dict(record.params)
        if _is_estimator(model):
            return model, {}
        raise TypeError(f"model must be a model id or an estimator; got {model!r}")

    def _tune_space(self, model: Any, search_space: dict | None) -> dict[str, list]:
        if search_space is not None:
            if not isinstance(search_space, dict) or not all(
                isinstance(v, list | tuple) and len(v) > 0 for v in search_space.values()
            ):
                raise ValueError(
                    "search_space must be a dict of parameter -> non-empty list of values; "
                    f"got {search_space!r}"
                )
            return {k: list(v) for k, v in search_space.items()}
        if not isinstance(model, str):
            raise ValueError(
                "tune_model needs a search_space for an estimator outside the registry"
            )
        entry = REGISTRY[model]
        space = {k: list(v) for k, v in entry.search_space.items()}
        X = self._search_sample()
        if entry.id == "dbscan":
            eps = knee_eps(X, 5, self.search_size, self._seed())
            space["eps"] = [round(eps * f, 6) for f in (0.5, 0.75, 1.0, 1.5, 2.0)]
        if entry.id == "meanshift":
            from sklearn.cluster import estimate_bandwidth

            bw = float(estimate_bandwidth(X, random_state=self._seed())) or 1.0
            space["bandwidth"] = [round(bw * f, 6) for f in (0.5, 0.75, 1.0, 1.5)]
        if entry.needs_k:
            space[entry.key_param] = [k for k in space[entry.key_param] if k < len(self.X_)]
        return space

    def _tune_objective(self, optimize: Any) -> tuple[Callable[[FittedModel], float], str, bool]:
        if callable(optimize):
            X = self.X_.to_numpy()

            def custom(record: FittedModel) -> float:
                return float(optimize(X, record.labels))

            return custom, getattr(optimize, "__name__", "custom"), True
        if optimize is None:
            optimize = "ari" if self.y_ is not None else "silhouette"
        m = self._get_metric(optimize)
        if m.needs_ground_truth and self.y_ is None:
            raise ValueError(
                f"optimize={optimize!r} needs ground truth: pass ground_truth='column' "
                "to setup or tune_model"
            )
        return (lambda record: record.metrics[m.display_name]), m.display_name, m.greater_is_better

    # ---------------------------------------------------------------------- the rest

    def plot_model(self, model: Any, plot: str = "cluster", save: Any = None, **kwargs: Any) -> Any:
        """Draw a figure of ``model`` on the prepared data (delegates to clusterlab.plots).

        Parameters
        ----------
        model : estimator
            A model this experiment fitted.
        plot : str
            ``'cluster'``, ``'cluster3d'``, ``'tsne'``, ``'umap'``, ``'elbow'``,
            ``'silhouette'``, ``'distance'``, ``'distribution'``, ``'profile'``, ``'feature'``,
            ``'dendrogram'``, ``'reachability'``, ``'condensed_tree'`` ... (see
            :func:`clusterlab.plots.plot_model`).
        save : str, Path or bool, optional
            A file to write; ``True`` writes ``<plot>.png`` in the working directory (as in
            PyCaret), ``False`` / ``None`` writes nothing.
        **kwargs
            Passed to the plot. For ``'k_selection'`` and ``'elbow'`` the scores default to how
            :meth:`compare_models` chose k for this model id (its choose_k result), unless
            ``scores`` / ``ks`` / ``k_range`` are given.

        Returns
        -------
        matplotlib.figure.Figure
        """
        record = self._record(model)
        try:
            from clusterlab import plots
        except ImportError as exc:
            raise NotImplementedError(
                "plot_model needs clusterlab.plots: plots arrive with the insight module "
                "(segment profiles and figures), which is not installed in this build"
            ) from exc
        if save is True:
            save = f"{plot}.png"
        elif save is False:
            save = None
        kwargs = self._selection_kwargs(record, plots.check_plot_name(plot), kwargs)
        return plots.plot_model(
            record.estimator,
            self.X_,
            np.asarray(record.labels),
            plot=plot,
            data=self.data_.loc[self._pre.train_mask_],
            save=save,
            **kwargs,
        )

    def _selection_kwargs(
        self, record: FittedModel, kind: str, kwargs: dict[str, Any]
    ) -> dict[str, Any]:
        """The stored choose_k result as the scores of a 'k_selection' or 'elbow' plot."""
        selection = record.selection or self._k_selection.get(record.model_id)
        if selection is None:
            return kwargs
        table = selection.table
        if kind == "k_selection" and "scores" not in kwargs:
            scores = table.drop(columns=[c for c in ("votes", "gap_se") if c in table.columns])
            return {"scores": scores, "chosen_k": selection.best_k, **kwargs}
        if kind == "elbow" and not {"ks", "k_range"} & kwargs.keys() and "inertia" in table:
            est = record.estimator
            own_k = getattr(est, "n_clusters", getattr(est, "n_components", None))
            return {
                "ks": [int(k) for k in table.index],
                "inertias": table["inertia"].tolist(),
                "chosen_k": own_k if own_k in table.index else selection.best_k,
                **kwargs,
            }
        return kwargs

    def evaluate_model(self, model: Any, html: bool = False) -> str:
        """A text (or HTML) summary: metrics, cluster sizes, one line per segment, feature means
        per cluster and parameters; it is a plain string, so it works outside notebooks."""
        record = self._record(model)
        data = self.data_.loc[self._pre.train_mask_]
        numeric = data.select_dtypes("number").columns.difference(
            [self.options.columns.ground_truth] if self.options.columns.ground_truth else []
        )
        labels = pd.Series(record.labels, index=data.index, name="Cluster")
        sizes = labels.value_counts().sort_index().rename("Rows").to_frame()
        sizes["Share"] = (sizes["Rows"] / len(labels)).round(3)
        profile = data[list(numeric)].groupby(labels).mean() if len(numeric) else pd.DataFrame()
        metrics = pd.Series(record.metrics, name="Value").to_frame()
        params = pd.Series(
            {k: _json_safe(v) for k, v in record.estimator.get_params().items()}, name="Value"
        ).to_frame()
        parts = [
            ("Model", pd.DataFrame({"Value": [record.model_id]}, index=["id"])),
            ("Metrics", metrics),
            ("Cluster sizes", sizes),
            ("Segments", self._descriptions(data, record.labels)),
            ("Mean of each numeric column per cluster", profile),
            ("Parameters", params),
        ]
        if record.selection is not None:
            reason = pd.DataFrame({"Value": [record.selection.reason]}, index=["k chosen by"])
            parts.insert(1, ("How k was chosen", reason))
        if html:
            body = "".join(f"<h3>{t}</h3>{f.to_html()}" for t, f in parts)
            return f"<div class='clusterlab-evaluate'>{body}</div>"
        return "\n\n".join(f"{t}\n{'-' * len(t)}\n{f.to_string()}" for t, f in parts)

    def _descriptions(self, data: pd.DataFrame, labels: np.ndarray) -> pd.DataFrame:
        """One line per segment from clusterlab.insight (features only, in the user's units)."""
        try:
            from clusterlab.insight import profile_segments
        except ImportError:
            return pd.DataFrame({"Description": ["(segment descriptions need clusterlab.insight)"]})
        profiles = profile_segments(data[self._pre.features_], labels)
        return pd.DataFrame({"Description": pd.Series(profiles.descriptions)})

    def save_model(self, model: Any, path: Any) -> Any:
        """Save the preprocessing pipeline and ``model`` in one safe file; return the path."""
        from clusterlab.persistence import ClusterPipeline, save_pipeline

        pre = self._require_setup()
        record = self._record(model)
        bundle = ClusterPipeline(
            pipeline=pre.pipeline_,
            features=list(pre.features_),
            estimator=record.estimator,
            rule=record.rule,
            model_id=record.model_id,
            columns=[str(c) for c in self.data_.columns],
        )
        return save_pipeline(bundle, path)

    def save_experiment(self, path: Any) -> Any:
        """Save setup and every fitted model (not the data); reload with :meth:`load_experiment`."""
        from clusterlab.persistence import save_experiment_state

        self._require_setup()
        custom = [k for k, m in self._metrics.items() if _is_custom(m)]
        if custom:
            logger.warning("custom metrics %s are not saved (they are code)", custom)
        return save_experiment_state(self, path)

    @classmethod
    def load_experiment(cls, path: Any, data: Any) -> Experiment:
        """Rebuild a saved experiment on ``data`` (the data setup saw) without refitting."""
        from clusterlab.persistence import load_experiment_state

        return load_experiment_state(path, data, cls)


def _is_custom(metric: Any) -> bool:
    """Whether ``metric`` was added to this experiment rather than taken from the registry."""
    from clusterlab.metrics import get_metric

    try:
        return get_metric(metric.name) is not metric
    except ValueError:
        return True


def _check_k(k: Any, n: int) -> None:
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
        raise ValueError(f"num_clusters must be an int >= 1; got {k!r}")
    if k > n:
        raise ValueError(
            f"num_clusters must be an int in [1, n_samples={n}]; got {k} "
            f"(the prepared data has only {n} rows)"
        )


def _warm_init(X: np.ndarray, selection: Any) -> dict[str, Any]:
    """``init`` at the centers of choose_k's labelling of ``X``, so that the final fit keeps the
    optimum choose_k reached (its forward and backward passes can find a better one than a
    single seeding: on the wholesale data a fresh k = 2 fit lands at 1.2x the inertia). Nothing
    when a cluster of that labelling is empty."""
    labels = np.asarray(selection.labels_)
    counts = np.bincount(labels, minlength=selection.best_k)
    if counts.size != selection.best_k or not counts.all():
        return {}
    sums = np.zeros((selection.best_k, X.shape[1]))
    np.add.at(sums, labels, X)
    return {"init": sums / counts[:, None]}


def knee_eps(X: np.ndarray, min_samples: int, sample_size: int, seed: int | None) -> float:
    """DBSCAN's eps from the knee of the sorted k-distance curve (k = ``min_samples``).

    The k-distances of a sample of at most ``sample_size`` rows are measured against all of
    ``X`` (so eps fits the full data's density); the knee is the point of the sorted curve
    farthest from the chord joining its ends.
    """
    from sklearn.neighbors import NearestNeighbors

    n = len(X)
    k = max(1, min(int(min_samples), n - 1))
    rng = np.random.default_rng(seed)
    rows = rng.choice(n, min(n, sample_size), replace=False)
    dist, _ = NearestNeighbors(n_neighbors=k + 1).fit(X).kneighbors(X[rows])
    d = np.sort(dist[:, k])
    if d[-1] <= d[0]:
        return float(d[-1]) if d[-1] > 0 else 1.0
    x = np.linspace(0.0, 1.0, d.size)
    y = (d - d[0]) / (d[-1] - d[0])
    knee = int(np.argmax(x - y))  # convex increasing curve: farthest below the chord
    eps = float(d[knee])
    return eps if eps > 0 else float(d[d > 0][0]) if (d > 0).any() else 1.0


def _param_text(entry: ModelEntry | None, params: dict[str, Any]) -> str:
    if entry is None or entry.key_param is None or entry.key_param not in params:
        return ""
    value = params[entry.key_param]
    if isinstance(value, float):
        value = f"{value:.4g}"
    return f"{entry.key_param}={value}"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "—"
        return f"{value:.4g}"
    return str(value)


class _Progress:
    """A rich progress bar when verbose; nothing otherwise."""

    def __init__(self, total: int, verbose: bool) -> None:
        self._bar = None
        if verbose:
            from rich.progress import Progress

            self._bar = Progress(transient=True)
            self._bar.start()
            self._task = self._bar.add_task("compare_models", total=total)

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def advance(self, label: str) -> None:
        if self._bar is not None:
            self._bar.update(self._task, advance=1, description=f"compare_models: {label}")

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
