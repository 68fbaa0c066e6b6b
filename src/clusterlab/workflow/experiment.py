"""The low-code workflow's facade: one :class:`Experiment` holds the data, models and results.

``setup -> compare_models -> create_model -> assign_model / predict_model -> plot_model -> save``,
with PyCaret's names; :mod:`clusterlab.clustering` is a thin functional shim over one default
Experiment. Each method delegates to a module of :mod:`clusterlab.workflow`: the prepared state
(``prepared``), fitting (``fitting``), scoring and ranking (``scoring``, ``ranking``), the
key-parameter choice (``keys``), compare (``compare``: a ``Leaderboard``), tune (``tune``: a
``TuneResult``), labels, evaluation and plots (``labels``, ``evaluate``), files (``storage``).
"""

from __future__ import annotations

import logging
import numbers
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from clusterlab.distributed._dispatch import is_dask_collection
from clusterlab.models import registry_frame
from clusterlab.workflow import compare as _compare
from clusterlab.workflow import evaluate as _evaluate
from clusterlab.workflow import labels as _labels
from clusterlab.workflow import storage as _storage
from clusterlab.workflow import tune as _tune
from clusterlab.workflow.config import CONFIG_NAMES, check_setting, config_value
from clusterlab.workflow.display import show
from clusterlab.workflow.fitting import create
from clusterlab.workflow.prepared import Prepared, prepare
from clusterlab.workflow.records import FittedModel, find_record
from clusterlab.workflow.scoring import MetricSet

__all__ = ["Experiment"]

logger = logging.getLogger(__name__)

#: Rows of the sample on which compare_models and tune_model estimate from the data.
SEARCH_SIZE = 2_000


class Experiment:
    """A clustering experiment: data, the fitted preprocessing pipeline, models and results.

    Parameters
    ----------
    data : DataFrame, array or path, optional
        When given, :meth:`setup` runs with ``setup_options``.
    **setup_options
        See :meth:`setup`.

    Attributes
    ----------
    leaderboard_ : Leaderboard or None
        The result of the last :meth:`compare_models` (``to_pandas()``, ``best(n)``,
        ``k_selection``, ``plot()``).
    tune_result_ : TuneResult or None
        The result of the last :meth:`tune_model` (``to_pandas()``, ``best_params``).

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
        self._metrics = MetricSet()
        self._fitted: dict[int, FittedModel] = {}
        self._k_selection: dict[str, Any] = {}
        self._last: Any = None  # what pull() shows: a table or a result with to_pandas()
        self._prepared: Prepared | None = None
        self._dask: Any = None  # the Dask DataFrame setup got, when it got one
        self.search_size = SEARCH_SIZE
        self.leaderboard_: _compare.Leaderboard | None = None
        self.tune_result_: _tune.TuneResult | None = None
        if data is not None or setup_options.get("data_func") is not None:
            self.setup(data, **setup_options)
        elif setup_options:
            raise TypeError("Experiment: setup options were given without data")

    def _state(self, ground_truth: str | None = None) -> Prepared:
        if self._prepared is None:
            raise RuntimeError("run setup(data, ...) first: this experiment has no data yet")
        return self._prepared.with_ground_truth(ground_truth)

    options = property(lambda self: self._state().options, doc="The setup options, grouped.")
    data_ = property(lambda self: self._state().data, doc="The data as given to setup.")
    X_ = property(lambda self: self._state().X, doc="Prepared features of the training rows.")
    X_all_ = property(lambda self: self._state().X_all, doc="Prepared features of every row.")
    y_ = property(lambda self: self._state().y, doc="Ground truth of the training rows.")

    @property
    def verbose(self) -> bool:
        return bool(self._prepared is not None and self._prepared.options.verbose)

    def _show(self, frame: pd.DataFrame, title: str, verbose: bool | None = None) -> None:
        if self.verbose if verbose is None else bool(verbose):
            show(frame, title)

    def _tools(self) -> dict[str, Any]:
        """What fitting needs besides the data: the metrics and the search size."""
        return {"metrics": self._metrics, "search_size": self.search_size}

    # ---------------------------------------------------------------- setup and configuration

    def setup(self, data: Any = None, **options: Any) -> Experiment:
        """Infer the schema, fit the preprocessing pipeline once and prepare the features.

        Parameters
        ----------
        data : DataFrame, 2-D array or str path, optional
            The table to segment; it is never modified. Give it or ``data_func``.
        **options
            PyCaret's names (``normalize``, ``ignore_features``, ``ground_truth``,
            ``remove_outliers``, ``session_id`` ...): every one is listed by
            ``SetupOptions.names()`` and documented, grouped, by
            :class:`~clusterlab.preprocessing.SetupOptions`.

        Returns
        -------
        Experiment
            ``self``.
        """
        if is_dask_collection(data):  # a sample in memory; statistics and final fits on all rows
            from clusterlab.distributed import workflow as _dask

            self._prepared, self._dask = _dask.setup(data, **options)
        else:
            self._prepared, self._dask = prepare(data, **options), None
        self._fitted.clear()
        self._k_selection.clear()
        self.leaderboard_ = self.tune_result_ = None
        self._last = self._prepared.summary()
        self._show(self._prepared.preprocessor.schema_.reset_index(), "Inferred schema")
        self._show(self._last.reset_index(), "Setup")
        return self

    def get_config(self, variable: str | None = None) -> Any:
        """Return a setup variable; with no name, the list of names.

        ``'X_transformed'`` (and ``'X'``) is the prepared feature frame of the training rows,
        ``'X_all'`` the prepared frame of every input row, ``'pipeline'`` the fitted scikit-learn
        pipeline, ``'schema'`` the inferred schema, ``'dropped'`` why rows were left out,
        ``'k_selection'`` a dict of model id -> :class:`~clusterlab.selection.ChooseKResult`
        for the models whose k the last :meth:`compare_models` chose.
        """
        if variable is None:
            return list(CONFIG_NAMES)
        return config_value(
            variable, self._prepared, search_size=self.search_size, k_selection=self._k_selection
        )

    def set_config(self, variable: str, value: Any) -> None:
        """Change ``session_id`` / ``seed``, ``sample_size``, ``search_size`` or ``verbose``."""
        name, value = check_setting(variable, value)
        if name == "search_size":
            self.search_size = value
        else:
            self._prepared = self._state().with_option(name, value)

    def pull(self) -> pd.DataFrame:
        """The last table shown: the setup summary, a metrics row, the leaderboard of
        :meth:`compare_models` or the search table of :meth:`tune_model`."""
        if self._last is None:
            raise RuntimeError("nothing to pull yet: run setup, create_model or compare_models")
        return self._last.copy() if isinstance(self._last, pd.DataFrame) else self._last.to_pandas()

    # ---------------------------------------------------------------------- metrics

    def get_metrics(self) -> pd.DataFrame:
        """The metrics used to score models, indexed by id."""
        return self._metrics.table()

    def add_metric(
        self,
        id: str,
        name: str,
        score_func: Callable[..., float],
        greater_is_better: bool = True,
        needs_ground_truth: bool = False,
    ) -> pd.Series:
        """Add a metric ``score_func(X, labels)`` (``score_func(y, labels)`` with ground truth)."""
        self._metrics.add(id, name, score_func, greater_is_better, needs_ground_truth)
        return self.get_metrics().loc[id]

    def remove_metric(self, name_or_id: str) -> None:
        """Remove a metric by id or display name."""
        self._metrics.remove(name_or_id)

    # ---------------------------------------------------------------------- models

    def models(self, internal: bool = False) -> pd.DataFrame:
        """The model registry as a DataFrame indexed by id.

        Examples
        --------
        >>> bool(Experiment().models().loc["hclust", "Native predict"])
        True
        """
        frame = registry_frame()
        return frame if internal else frame.drop(columns=["Key parameter"])

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
        prepared = self._state(ground_truth)
        record = create(model, num_clusters, params, prepared, **self._tools())
        self._refit_on_dask(record, prepared)
        self._fitted[id(record.estimator)] = self._last = record
        self._show(record.to_pandas().reset_index(), f"create_model({record.model_id!r})", verbose)
        return record.estimator

    # ---------------------------------------------------------------------- labels out

    def assign_model(
        self, model: Any, label_name: str = "Cluster", probabilities: bool = False
    ) -> pd.DataFrame:
        """The original data (values, index, column order) plus the label column (-1 = noise).

        Rows that setup left out of training (outliers, ``imputation='drop'``) are labelled by
        the model's out-of-sample rule and flagged in ``<label_name>_predicted``; the length is
        always the input's. ``probabilities=True`` adds membership columns for models that give
        them (``predict_proba``, or HDBSCAN's ``probabilities_`` for the training rows).
        """
        prepared = self._state()
        if self._dask is not None:  # a lazy Dask DataFrame, partition by partition
            from clusterlab.distributed import workflow as _dask

            if probabilities:
                raise ValueError("probabilities=True is not available for a Dask DataFrame")
            return _dask.assign(
                find_record(self._fitted, model), prepared, self._dask.data, label_name
            )
        return _labels.assign(find_record(self._fitted, model), prepared, label_name, probabilities)

    def predict_model(self, model: Any, data: Any, label_name: str = "Cluster") -> pd.DataFrame:
        """Label new data: its original columns plus the label column.

        ``model`` is a model this experiment fitted or what :func:`load_model` returned.
        """
        from clusterlab.persistence import ClusterPipeline

        if is_dask_collection(data):  # a lazy Dask DataFrame, partition by partition
            from clusterlab.distributed import workflow as _dask

            if isinstance(model, ClusterPipeline):
                return _dask.predict_frames(model, data, label_name)
            record = find_record(self._fitted, model)
            return _dask.assign(record, self._state(), data, label_name)
        if isinstance(model, ClusterPipeline):
            return model.predict_frame(data, label_name=label_name)
        prepared = self._state()
        return _labels.predict(find_record(self._fitted, model), prepared, data, label_name)

    # ---------------------------------------------------------------------- compare and tune

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

        Each model's key hyperparameter is chosen as its registry entry says
        (:mod:`clusterlab.workflow.keys`: k by :func:`~clusterlab.selection.choose_k`, whose
        result is kept per id and explained in the ``k chosen by`` column); the model is then
        fitted on all training rows and ranked by the rule of :mod:`clusterlab.workflow.ranking`.
        Models that cannot run at this n are skipped with the reason (memory; ``turbo``: slow
        above their limit). ``budget_time`` is in minutes, as in PyCaret.

        Returns
        -------
        estimator or list of estimators
            The best model, or the ``n_select`` best. The whole result, a
            :class:`~clusterlab.workflow.compare.Leaderboard`, is :attr:`leaderboard_`; its table
            is also what :meth:`pull` returns.
        """
        prepared = self._state()
        if isinstance(n_select, bool) or not isinstance(n_select, numbers.Integral) or n_select < 1:
            raise ValueError(f"n_select must be an int >= 1; got {n_select!r}")
        if sort != "auto":
            self._metrics.find(sort)
        run = {"sort": sort, "budget_time": budget_time, "turbo": turbo}
        show_progress = self.verbose if verbose is None else bool(verbose)
        candidates = _compare.candidates(include, exclude)
        board = _compare.compare(
            prepared, candidates, verbose=show_progress, **run, **self._tools()
        )
        for record in board.records.values():
            self._fitted[id(record.estimator)] = record
        for model_id in board.ranked[:n_select]:
            if self._refit_on_dask(board.records[model_id], prepared):
                board.table.loc[model_id, "Note"] = board.records[model_id].metrics["Note"]
        self._k_selection.update(board.k_selection)
        self.leaderboard_ = self._last = board
        self._show(board.to_pandas().reset_index(), "compare_models", verbose)
        best = board.best(n_select)
        return best[0] if n_select == 1 else best

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

        Returns
        -------
        estimator
            Fitted. The whole result, a :class:`~clusterlab.workflow.tune.TuneResult`, is
            :attr:`tune_result_`; its table is also what :meth:`pull` returns.
        """
        prepared = self._state(ground_truth)
        search = {"optimize": optimize, "n_iter": n_iter}
        result = _tune.tune(prepared, model, search_space, self._fitted, **search, **self._tools())
        self._refit_on_dask(result.record, prepared)
        self._fitted[id(result.model)] = result.record
        self.tune_result_ = self._last = result
        self._show(result.to_pandas(), f"tune_model (optimize={result.optimize})", verbose)
        return result.model

    def _refit_on_dask(self, record: FittedModel, prepared: Prepared) -> bool:
        """After a Dask setup: the model refitted on every row where a distributed fit exists
        (the fit on the sample stays otherwise); its note says which. False without Dask."""
        if self._dask is None:
            return False
        from clusterlab.distributed import workflow as _dask

        _dask.refit(record, prepared, self._dask, self._metrics)
        return True

    # ---------------------------------------------------------------------- insight

    def plot_model(self, model: Any, plot: str = "cluster", save: Any = None, **kwargs: Any) -> Any:
        """Draw a figure of ``model`` on the prepared data (delegates to clusterlab.plots).

        Parameters
        ----------
        model : estimator
            A model this experiment fitted.
        plot : str
            A kind of :data:`clusterlab.plots.PLOT_KINDS` (``'cluster'``, ``'profile'``,
            ``'k_selection'`` ...; see :func:`clusterlab.plots.plot_model`).
        save : str, Path or bool, optional
            A .png / .svg / .pdf file to write; ``True`` or a folder writes the plot's PyCaret
            name there (``Elbow Plot.png`` ...) and returns its path, as PyCaret does.
        **kwargs
            PyCaret's ``feature``, ``label``, ``scale``, ``display_format``, and what the plot
            takes. For ``'k_selection'`` and ``'elbow'`` the scores default to how
            :meth:`compare_models` chose k for this model id (its choose_k result), unless
            ``scores`` / ``ks`` / ``k_range`` are given; ``'pipeline'`` draws setup's pipeline.

        Returns
        -------
        matplotlib.figure.Figure, or str
            The figure; the path written when ``save`` is True or a folder.
        """
        record = find_record(self._fitted, model)
        selection = record.selection or self._k_selection.get(record.model_id)
        return _evaluate.plot(record, self._state(), plot, save=save, selection=selection, **kwargs)

    def evaluate_model(self, model: Any, html: bool = False) -> str:
        """A text (or HTML) summary: metrics, cluster sizes, one line per segment, feature means
        per cluster and parameters; it is a plain string, so it works outside notebooks."""
        return _evaluate.evaluate(find_record(self._fitted, model), self._state(), html=html)

    def report(
        self,
        path: Any,
        model: Any = None,
        *,
        title: str = "Segmentation report",
        params: dict[str, Any] | None = None,
        overwrite: bool = False,
    ) -> Path:
        """Write the report of ``model`` to one self-contained HTML file that opens offline.

        Data and preparation, the leaderboard (when ``model`` is one of its models), how k was
        chosen, the model and its metrics, each segment (profile, rules), plots, anomalies.

        Parameters
        ----------
        path : str or Path
            A file name ending in .html; an existing file is kept unless ``overwrite``.
        model : estimator, optional
            A model this experiment fitted; default: the best model of the last
            :meth:`compare_models`, else the last model fitted.
        title : str
            Heading of the report.
        params : dict, optional
            Listed under "Reproduce"; default: the non-default setup options, the seed and the
            model's parameters.

        Returns
        -------
        pathlib.Path
            The file written.
        """
        from clusterlab.report import check_path, render_report
        from clusterlab.workflow.reporting import report_input, report_record

        target = check_path(Path(path), overwrite)
        record = report_record(self._fitted, self.leaderboard_, model)
        extra = {"title": title, "params": params}
        content = report_input(self._state(), record, self.leaderboard_, self._k_selection, **extra)
        return render_report(target, content, overwrite=overwrite)

    # ---------------------------------------------------------------------- files

    def save_model(self, model: Any, path: Any) -> Any:
        """Save the preprocessing pipeline and ``model`` in one safe file; return the path."""
        prepared = self._state()
        return _storage.save_model(path, prepared, find_record(self._fitted, model))

    def save_experiment(self, path: Any) -> Any:
        """Save setup and every fitted model (not the data); reload with :meth:`load_experiment`."""
        prepared = self._state()
        custom = self._metrics.custom()
        if custom:
            logger.warning("custom metrics %s are not saved (they are code)", custom)
        return _storage.save_experiment(
            path, prepared, self._fitted.values(), self._k_selection, self.search_size
        )

    @classmethod
    def load_experiment(cls, path: Any, data: Any) -> Experiment:
        """Rebuild a saved experiment on ``data`` (the data setup saw) without refitting."""
        restored = _storage.load_experiment(path, data)
        exp = cls()
        exp._prepared = restored.prepared
        exp._fitted.update(restored.records)
        exp._k_selection.update(restored.k_selection)
        exp.search_size = restored.search_size
        exp._last = restored.prepared.summary()
        return exp
