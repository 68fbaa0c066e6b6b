"""The low-code workflow's facade: one :class:`Experiment` holds the data, models and results.

``setup -> compare_models -> create_model -> assign_model / predict_model -> plot_model -> save``,
with PyCaret 3's names, parameters and meanings (:class:`~clusterlab.ClusteringExperiment` adds
PyCaret's label values and return values; :mod:`clusterlab.clustering` is the functional shim
over one of those). The public methods are grouped by concern, each group a class of its own
module that :class:`Experiment` is composed of: setup and configuration
(:mod:`~clusterlab.workflow.setup_methods`), metrics (:mod:`~clusterlab.workflow.metric_methods`),
insight (:mod:`~clusterlab.workflow.insight_methods`), files
(:mod:`~clusterlab.workflow.file_methods`), and here the models: create, label, compare, tune;
the state they share is :mod:`~clusterlab.workflow.session`'s. Each method delegates to a module
of :mod:`clusterlab.workflow`: the prepared state (``prepared``), fitting (``fitting``), scoring
and ranking (``scoring``, ``ranking``), the key-parameter choice (``keys``), compare
(``compare``: a ``Leaderboard``), tune (``tune``: a ``TuneResult``), labels, evaluation and plots
(``labels``, ``evaluate``), files (``storage``), the setup variables (``config``) and the table
of runs (``runs``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pandas as pd

from clusterlab.distributed._dispatch import is_dask_collection
from clusterlab.models import get_entry, registry_frame
from clusterlab.workflow import compare as _compare
from clusterlab.workflow import labels as _labels
from clusterlab.workflow import tune as _tune
from clusterlab.workflow.categories import GOWER_MESSAGE, has_categories
from clusterlab.workflow.file_methods import FileMethods
from clusterlab.workflow.fitting import create, engine_of
from clusterlab.workflow.insight_methods import InsightMethods
from clusterlab.workflow.metric_methods import MetricMethods
from clusterlab.workflow.records import find_record
from clusterlab.workflow.session import SEARCH_SIZE, check_bool, check_int, check_mapping
from clusterlab.workflow.setup_methods import SetupMethods

__all__ = ["SEARCH_SIZE", "Experiment"]


class Experiment(SetupMethods, MetricMethods, InsightMethods, FileMethods):
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
    data, dataset, X, X_train, train, X_transformed, X_train_transformed, train_transformed, \
dataset_transformed, pipeline, seed, USI, n_jobs_param, exp_name_log
        PyCaret's setup variables, as :meth:`get_config` returns them.

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
        super().__init__()
        if data is not None or setup_options.get("data_func") is not None:
            self.setup(data, **setup_options)
        elif setup_options:
            raise TypeError("Experiment: setup options were given without data")

    # ---------------------------------------------------------------------- models

    def models(self, internal: bool = False, raise_errors: bool = True) -> pd.DataFrame:
        """The model registry as a DataFrame indexed by id; ``raise_errors=False`` leaves out
        the ids whose estimator cannot be imported instead of raising.

        Examples
        --------
        >>> bool(Experiment().models().loc["hclust", "Native predict"])
        True
        """
        frame = registry_frame(raise_errors=raise_errors)
        return frame if internal else frame.drop(columns=["Key parameter"])

    def get_allowed_engines(self, estimator: str) -> list[str]:
        """The engines model id ``estimator`` can be built with: ``'clusterlab'`` (its own
        estimator), ``'sklearn'`` (scikit-learn's counterpart)."""
        return sorted(get_entry(estimator).engines)

    def get_engine(self, estimator: str) -> str:
        """The engine model id ``estimator`` is built with in this experiment: setup's
        ``engines`` for it, else the registry's default (clusterlab's own where it has one)."""
        return engine_of(get_entry(estimator), self._state())

    def create_model(  # noqa: PLR0917 - PyCaret's positional order
        self,
        model: Any,
        num_clusters: int | None = None,
        ground_truth: str | None = None,
        round: int = 4,
        fit_kwargs: dict[str, Any] | None = None,
        verbose: bool | None = None,
        experiment_custom_tags: dict[str, Any] | None = None,
        engine: str | None = None,
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
        round : int, default 4
            Decimals of the metrics row shown and returned by :meth:`pull`.
        fit_kwargs : dict, optional
            Passed to the estimator's ``fit``; an array with one value per row of the data
            (``sample_weight``) is cut to the training rows.
        verbose : bool, optional
            Show the metrics row; default: setup's ``verbose``.
        experiment_custom_tags : dict, optional
            Kept with the model and shown by :meth:`get_logs` (no experiment logger is built in).
        engine : str, optional
            The implementation of a model id: one of :meth:`get_allowed_engines` (default:
            :meth:`get_engine`).
        **params
            Passed to the estimator.

        Returns
        -------
        estimator
            Fitted; its metrics row is available through :meth:`pull`.
        """
        check_int("round", round, 0)
        check_mapping("experiment_custom_tags", experiment_custom_tags)
        prepared = self._state(ground_truth)
        record = create(
            model,
            num_clusters,
            params,
            prepared,
            engine=engine,
            fit_kwargs=fit_kwargs,
            announce=self._announce,
            **self._tools(),
        )
        self._refit_on_dask(record, prepared)
        record.tags = dict(experiment_custom_tags or {})
        self._fitted[id(record.estimator)] = record
        row = record.to_pandas().round(round)
        self._keep(row)
        self._show(row.reset_index(), f"create_model({record.model_id!r})", verbose)
        return record.estimator

    # ---------------------------------------------------------------------- labels out

    def assign_model(
        self,
        model: Any,
        transformation: bool = False,
        verbose: bool = True,
        *,
        label_name: str = "Cluster",
        probabilities: bool = False,
    ) -> pd.DataFrame:
        """The original data (values, index, column order) plus the label column.

        Labels are written as setup's ``label_format`` says (integers with -1 for noise, or
        PyCaret's ``"Cluster 0"`` ...). ``transformation=True`` labels the prepared features
        of every row instead of the original data (PyCaret's meaning). Rows that setup left out
        of training (outliers, ``imputation='drop'``) are labelled by the model's out-of-sample
        rule and flagged in ``<label_name>_predicted``; the length is always the input's.
        ``probabilities=True`` adds membership columns for models that give them
        (``predict_proba``, or HDBSCAN's ``probabilities_`` for the training rows). ``verbose``
        is accepted for PyCaret's signature (nothing is shown).
        """
        check_bool("transformation", transformation)
        check_bool("verbose", verbose)
        prepared = self._state()
        if self._dask is not None:  # a lazy Dask DataFrame, partition by partition
            from clusterlab.distributed import workflow as _dask

            if probabilities:
                raise ValueError("probabilities=True is not available for a Dask DataFrame")
            record = find_record(self._fitted, model)
            return _dask.assign(record, prepared, self._dask.data, label_name, self.label_format)
        return _labels.assign(
            find_record(self._fitted, model),
            prepared,
            label_name,
            probabilities,
            transformation=transformation,
            label_format=self.label_format,
        )

    def predict_model(self, model: Any, data: Any, *, label_name: str = "Cluster") -> pd.DataFrame:
        """Label new data: its original columns plus the label column (as setup's
        ``label_format`` says).

        ``model`` is a model this experiment fitted or what :meth:`load_model` returned.
        """
        from clusterlab.persistence import ClusterPipeline

        if is_dask_collection(data):  # a lazy Dask DataFrame, partition by partition
            from clusterlab.distributed import workflow as _dask

            if isinstance(model, ClusterPipeline):
                return _dask.predict_frames(model, data, label_name, self.label_format)
            record = find_record(self._fitted, model)
            return _dask.assign(record, self._state(), data, label_name, self.label_format)
        if isinstance(model, ClusterPipeline):
            return model.predict_frame(data, label_name, self.label_format)
        prepared = self._state()
        record = find_record(self._fitted, model)
        return _labels.predict(record, prepared, data, label_name, label_format=self.label_format)

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
        above their limit). ``budget_time`` is in minutes, as in PyCaret. ``Time (s)`` leaves
        out numba's one-time compilation. On data with categorical columns the models made for
        categories join (``kprototypes``, ``kmedoids`` with Gower's distance; ``kmodes`` when
        every column is categorical), each reading the categorical columns as they are
        (:mod:`clusterlab.workflow.categories`), and every model's Silhouette is Gower's, so
        that all are ranked with one distance.

        Returns
        -------
        estimator or list of estimators
            The best model, or the ``n_select`` best. The whole result, a
            :class:`~clusterlab.workflow.compare.Leaderboard`, is :attr:`leaderboard_`; its table
            is also what :meth:`pull` returns.
        """
        prepared = self._state()
        check_int("n_select", n_select, 1)
        if sort != "auto":
            self._metrics.find(sort)
        run = {"sort": sort, "budget_time": budget_time, "turbo": turbo}
        candidates = _compare.candidates(include, exclude, prepared)
        if has_categories(prepared):
            self._message(GOWER_MESSAGE.format(n=prepared.options.sample_size), verbose)
        board = _compare.compare(
            prepared,
            candidates,
            verbose=self._verbose(verbose),
            announce=self._announce,
            **run,
            **self._tools(),
        )
        for record in board.records.values():
            self._fitted[id(record.estimator)] = record
        for model_id in board.ranked[:n_select]:
            if self._refit_on_dask(board.records[model_id], prepared):
                board.table.loc[model_id, "Note"] = board.records[model_id].metrics["Note"]
        self._k_selection.update(board.k_selection)
        self.leaderboard_ = board
        self._keep(board)
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
        self.tune_result_ = result
        self._keep(result)
        self._show(result.to_pandas(), f"tune_model (optimize={result.optimize})", verbose)
        return result.model
