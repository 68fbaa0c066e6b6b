"""The low-code workflow's facade: one :class:`Experiment` holds the data, models and results.

``setup -> compare_models -> create_model -> assign_model / predict_model -> plot_model -> save``,
with PyCaret 3's names, parameters and meanings (:class:`~clusterlab.ClusteringExperiment` adds
PyCaret's label values and return values; :mod:`clusterlab.clustering` is the functional shim
over one of those). Each method delegates to a module of :mod:`clusterlab.workflow`: the
prepared state (``prepared``), fitting (``fitting``), scoring and ranking (``scoring``,
``ranking``), the key-parameter choice (``keys``), compare (``compare``: a ``Leaderboard``), tune
(``tune``: a ``TuneResult``), labels, evaluation and plots (``labels``, ``evaluate``), files
(``storage``), the setup variables (``config``) and the table of runs (``runs``).
"""

from __future__ import annotations

import logging
import numbers
import secrets
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from clusterlab.distributed._dispatch import is_dask_collection
from clusterlab.models import get_entry, registry_frame
from clusterlab.workflow import compare as _compare
from clusterlab.workflow import evaluate as _evaluate
from clusterlab.workflow import labels as _labels
from clusterlab.workflow import storage as _storage
from clusterlab.workflow import tune as _tune
from clusterlab.workflow.categories import GOWER_MESSAGE, has_categories
from clusterlab.workflow.compiling import logger as _compile_logger
from clusterlab.workflow.config import (
    CONFIG_NAMES,
    check_setting,
    config_value,
    with_setting,
)
from clusterlab.workflow.display import message, show
from clusterlab.workflow.fitting import check_engines, create, engine_of
from clusterlab.workflow.prepared import Prepared, prepare
from clusterlab.workflow.records import FittedModel, find_record
from clusterlab.workflow.runs import runs_table, save_runs
from clusterlab.workflow.scoring import MetricSet

__all__ = ["Experiment"]

logger = logging.getLogger(__name__)

#: Rows of the sample on which compare_models and tune_model estimate from the data.
SEARCH_SIZE = 2_000
#: PyCaret draws a session seed in this range when setup is given none.
_SEED_RANGE = (150, 9000)


def _pycaret_variable(name: str, doc: str) -> property:
    return property(lambda self: self.get_config(name), doc=doc)


def _unused_options(function: str, what: str, options: Mapping[str, Any]) -> None:
    """Say once, in one line, that PyCaret options for a library clusterlab does not use have
    no effect (they are accepted so that PyCaret scripts run)."""
    if options:
        logger.warning(
            "%s: %s are %s options and have no effect in clusterlab",
            function,
            ", ".join(sorted(options)),
            what,
        )


def _check_bool(name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False; got {value!r}")


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

    #: How assign_model and predict_model write labels when setup's ``label_format`` is None.
    default_label_format = "integer"

    def __init__(self, data: Any = None, **setup_options: Any) -> None:
        self._metrics = MetricSet()
        self._fitted: dict[int, FittedModel] = {}
        self._k_selection: dict[str, Any] = {}
        self._shown: list[Any] = []  # PyCaret's display container: tables or results
        self._prepared: Prepared | None = None
        self._usi = secrets.token_hex(2)
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
    data = _pycaret_variable("data", "The data setup works on (PyCaret's ``data``).")
    dataset = _pycaret_variable("dataset", "``data`` without the ignored columns.")
    X = _pycaret_variable("X", "The raw feature columns of every row.")
    X_train = _pycaret_variable("X_train", "The raw feature columns of the training rows.")
    train = _pycaret_variable("train", "``dataset`` on the training rows.")
    X_transformed = _pycaret_variable("X_transformed", "Prepared features of the training rows.")
    X_train_transformed = _pycaret_variable(
        "X_train_transformed", "Prepared features of the training rows."
    )
    train_transformed = _pycaret_variable(
        "train_transformed", "Prepared features of the training rows."
    )
    dataset_transformed = _pycaret_variable(
        "dataset_transformed", "Prepared features of every row."
    )
    pipeline = _pycaret_variable("pipeline", "The fitted preprocessing pipeline.")
    seed = _pycaret_variable("seed", "The session seed (setup's ``session_id``).")
    USI = _pycaret_variable("USI", "This experiment's unique session id.")
    n_jobs_param = _pycaret_variable("n_jobs_param", "setup's ``n_jobs``.")
    exp_name_log = _pycaret_variable("exp_name_log", "The experiment's name.")

    @property
    def verbose(self) -> bool:
        return bool(self._prepared is not None and self._prepared.options.verbose)

    @property
    def label_format(self) -> str:
        """How labels are written: setup's ``label_format``, else :attr:`default_label_format`."""
        given = None if self._prepared is None else self._prepared.options.label_format
        return given or self.default_label_format

    def _verbose(self, verbose: bool | None) -> bool:
        return self.verbose if verbose is None else bool(verbose)

    def _show(self, frame: pd.DataFrame, title: str, verbose: bool | None = None) -> None:
        if self._verbose(verbose):
            show(frame, title)

    def _message(self, text: str, verbose: bool | None = None) -> None:
        if self._verbose(verbose):
            message(text)
        else:
            logger.info(text)

    def _announce(self, text: str) -> None:
        """The one-line notice that numba kernels are compiling."""
        if self.verbose:
            message(text)
        else:
            _compile_logger.info(text)

    def _tools(self) -> dict[str, Any]:
        """What fitting needs besides the data: the metrics and the search size."""
        return {"metrics": self._metrics, "search_size": self.search_size}

    def _keep(self, shown: Any) -> None:
        self._shown.append(shown)

    # ---------------------------------------------------------------- setup and configuration

    def setup(self, data: Any = None, **options: Any) -> Experiment:
        """Infer the schema, fit the preprocessing pipeline once and prepare the features.

        Parameters
        ----------
        data : DataFrame, 2-D array or str path, optional
            The table to segment; it is never modified. Give it or ``data_func``.
        **options
            PyCaret 3's names (``normalize``, ``ignore_features``, ``session_id``,
            ``engines`` ...) and clusterlab's (``ground_truth``, ``label_format`` ...): every one
            is listed by ``SetupOptions.names()`` and documented, grouped, by
            :class:`~clusterlab.preprocessing.SetupOptions`. Without ``session_id`` a seed is
            drawn, as PyCaret does, so that ``get_config('seed')`` reproduces the run.

        Returns
        -------
        Experiment
            ``self``.
        """
        if options.get("session_id") is None:
            low, high = _SEED_RANGE
            options["session_id"] = low + secrets.randbelow(high - low + 1)
        if is_dask_collection(data):  # a sample in memory; statistics and final fits on all rows
            from clusterlab.distributed import workflow as _dask

            prepared, dask = _dask.setup(data, **options)
        else:
            prepared, dask = prepare(data, **options), None
        check_engines(prepared.options.runtime.engines)
        self._prepared, self._dask = prepared, dask
        self._fitted.clear()
        self._k_selection.clear()
        self.leaderboard_ = self.tune_result_ = None
        self._usi = secrets.token_hex(2)
        self._shown = [self._setup_table()]
        self._show(prepared.preprocessor.schema_.reset_index(), "Inferred schema")
        self._show(self._shown[-1].reset_index(), "Setup")
        return self

    def _setup_table(self) -> pd.DataFrame:
        """The setup summary with PyCaret's session rows (``pull()`` after setup)."""
        table = self._state().summary()
        extra = pd.DataFrame(
            {"Value": [str(self.n_jobs_param), self.exp_name_log, self._usi]},
            index=["CPU Jobs", "Experiment Name", "USI"],
        )
        return pd.concat([table, extra]).rename_axis("Description")

    def get_config(self, variable: str | None = None) -> Any:
        """Return a setup variable; with no name, the list of names.

        PyCaret's names mean what they mean in PyCaret 3: ``'X'`` is the raw feature columns,
        ``'X_train_transformed'`` the prepared features the models are fitted on,
        ``'dataset_transformed'`` those of every row, ``'pipeline'`` the fitted scikit-learn
        pipeline, ``'seed'``, ``'USI'``, ``'n_jobs_param'``, ``'exp_name_log'`` ... (the whole
        table is in :mod:`clusterlab.workflow.config`); clusterlab's own are ``'X_all'``,
        ``'schema'``, ``'dropped'`` (why rows were left out), ``'k_selection'`` (model id ->
        :class:`~clusterlab.selection.ChooseKResult` of the last :meth:`compare_models`) ...
        """
        if variable is None:
            return list(CONFIG_NAMES)
        own = {
            "USI": self._usi,
            "label_format": self.label_format,
            "k_selection": dict(self._k_selection),
        }
        return config_value(variable, self._prepared, search_size=self.search_size, experiment=own)

    def set_config(self, variable: str | None = None, value: Any = None, **kwargs: Any) -> None:
        """Change ``seed`` / ``session_id``, ``sample_size``, ``search_size``, ``verbose``,
        ``n_jobs_param`` or ``exp_name_log``; several at once as keywords."""
        if variable is not None and kwargs:
            raise ValueError("set_config takes a variable and a value, or keywords; not both")
        settings = kwargs if variable is None else {variable: value}
        for key, new in settings.items():
            name, checked = check_setting(key, new)
            if name == "search_size":
                self.search_size = checked
            else:
                self._prepared = with_setting(self._state(), name, checked)

    def pull(self, pop: bool = False) -> pd.DataFrame:
        """The last table shown: the setup summary, a metrics row, the leaderboard of
        :meth:`compare_models` or the search table of :meth:`tune_model`; ``pop=True`` also
        removes it, so that the next ``pull()`` returns the one before."""
        if not self._shown:
            raise RuntimeError("nothing to pull: run setup, create_model or compare_models")
        last = self._shown.pop() if pop else self._shown[-1]
        return last.copy() if isinstance(last, pd.DataFrame) else last.to_pandas()

    # ---------------------------------------------------------------------- metrics

    def get_metrics(
        self, reset: bool = False, include_custom: bool = True, raise_errors: bool = True
    ) -> pd.DataFrame:
        """The metrics used to score models, indexed by id (PyCaret's id in ``PyCaret ID``).

        ``reset=True`` first restores the default metrics (custom ones dropped, removed ones
        back); ``include_custom=False`` leaves the added ones out of the table.
        ``raise_errors`` is accepted for PyCaret's signature: no metric can fail to load.
        """
        _check_bool("raise_errors", raise_errors)
        if reset:
            self._metrics.reset()
        return self._metrics.table(include_custom=include_custom)

    def add_metric(
        self,
        id: str,
        name: str,
        score_func: Callable[..., float],
        greater_is_better: bool = True,
        needs_ground_truth: bool = False,
        *,
        target: str = "pred",
        multiclass: bool = True,
        **kwargs: Any,
    ) -> pd.Series:
        """Add a metric ``score_func(X, labels, **kwargs)`` (``score_func(y, labels, **kwargs)``
        with ground truth), scored by every later fit.

        ``target`` must be ``'pred'`` (PyCaret's only target for clustering: the labels);
        ``multiclass`` is accepted for PyCaret's signature (a clustering has as many labels as
        it has). Returns the metric's row of :meth:`get_metrics`.
        """
        if target != "pred":
            raise ValueError(
                f"target must be 'pred' (a clustering metric scores the labels); got {target!r}"
            )
        _check_bool("multiclass", multiclass)
        self._metrics.add(id, name, score_func, greater_is_better, needs_ground_truth, **kwargs)
        return self.get_metrics().loc[id]

    def remove_metric(self, name_or_id: str) -> None:
        """Remove a metric by id, PyCaret id (``'cs'``, ``'chs'``, ``'hs'`` ...) or name."""
        self._metrics.remove(name_or_id)

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
        if isinstance(round, bool) or not isinstance(round, numbers.Integral) or round < 0:
            raise ValueError(f"round must be an int >= 0; got {round!r}")
        if experiment_custom_tags is not None and not isinstance(experiment_custom_tags, Mapping):
            raise TypeError(
                f"experiment_custom_tags must be None or a dict; got {experiment_custom_tags!r}"
            )
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
        _check_bool("transformation", transformation)
        _check_bool("verbose", verbose)
        prepared = self._state()
        if self._dask is not None:  # a lazy Dask DataFrame, partition by partition
            from clusterlab.distributed import workflow as _dask

            if probabilities:
                raise ValueError("probabilities=True is not available for a Dask DataFrame")
            return _dask.assign(
                find_record(self._fitted, model), prepared, self._dask.data, label_name
            )
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
                return _dask.predict_frames(model, data, label_name)
            record = find_record(self._fitted, model)
            return _dask.assign(record, self._state(), data, label_name)
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
        if isinstance(n_select, bool) or not isinstance(n_select, numbers.Integral) or n_select < 1:
            raise ValueError(f"n_select must be an int >= 1; got {n_select!r}")
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

    def _refit_on_dask(self, record: FittedModel, prepared: Prepared) -> bool:
        """After a Dask setup: the model refitted on every row where a distributed fit exists
        (the fit on the sample stays otherwise); its note says which. False without Dask."""
        if self._dask is None:
            return False
        from clusterlab.distributed import workflow as _dask

        _dask.refit(record, prepared, self._dask, self._metrics)
        return True

    # ---------------------------------------------------------------------- insight

    def plot_model(  # noqa: PLR0917 - PyCaret's positional order
        self,
        model: Any,
        plot: str = "cluster",
        feature: str | None = None,
        label: bool = False,
        scale: float = 1,
        save: Any = False,
        display_format: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """Draw a figure of ``model`` on the prepared data (delegates to clusterlab.plots).

        Parameters
        ----------
        model : estimator
            A model this experiment fitted.
        plot : str
            A kind of :data:`clusterlab.plots.PLOT_KINDS` (``'cluster'``, ``'elbow'``,
            ``'k_selection'``, ``'pipeline'`` ...; see :func:`clusterlab.plots.plot_model`).
        feature, label, scale, display_format
            PyCaret's options, with PyCaret's meaning (see :mod:`clusterlab.plots.kinds`).
        save : bool, str or Path
            True or a folder writes the plot's PyCaret name there (``Elbow Plot.png`` ...) and
            returns its path, as PyCaret does; a .png / .svg / .pdf file name writes that file.
        **kwargs
            What the plot takes (``ax``, ``title`` ...). For ``'k_selection'`` and ``'elbow'``
            the scores default to how :meth:`compare_models` chose k for this model id (its
            choose_k result), else choose_k is run on the prepared data (``k_range``);
            ``'stability'`` resamples the model unless ``stability=`` is given.

        Returns
        -------
        matplotlib.figure.Figure, or str
            The figure; the path written when ``save`` is True or a folder.
        """
        record = find_record(self._fitted, model)
        selection = record.selection or self._k_selection.get(record.model_id)
        options = {"feature": feature, "label": label, "scale": scale}
        options |= {"display_format": display_format, "save": save}
        return _evaluate.plot(record, self._state(), plot, selection=selection, **options, **kwargs)

    def evaluate_model(
        self,
        model: Any,
        feature: str | None = None,
        fit_kwargs: dict[str, Any] | None = None,
        *,
        html: bool = False,
    ) -> str:
        """A text (or HTML) summary: metrics, cluster sizes, one line per segment, feature means
        per cluster and parameters; with ``feature``, that column's distribution per cluster.

        PyCaret shows an interactive widget of plots instead; this is a plain string, so it
        works outside notebooks (:meth:`plot_model` draws each plot). ``fit_kwargs`` is
        accepted for PyCaret's signature: nothing is refitted here.
        """
        if fit_kwargs is not None and not isinstance(fit_kwargs, Mapping):
            raise TypeError(f"fit_kwargs must be None or a dict; got {fit_kwargs!r}")
        record = find_record(self._fitted, model)
        return _evaluate.evaluate(record, self._state(), html=html, feature=feature)

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

    def get_logs(self, experiment_name: str | None = None, save: bool = False) -> pd.DataFrame:
        """The models this experiment fitted, one row per run, with their metrics, parameters
        and tags (see :mod:`clusterlab.workflow.runs`); ``save=True`` also writes
        ``<experiment name>_logs.csv`` in the working directory.

        PyCaret reads these from its MLflow logger; clusterlab keeps them itself, so
        ``log_experiment`` is not needed. ``experiment_name`` must be this experiment's.
        """
        name = self.exp_name_log
        if experiment_name is not None and experiment_name != name:
            raise ValueError(
                f"experiment_name {experiment_name!r} is not this experiment (its name is "
                f"{name!r}); an experiment lists only its own runs"
            )
        _check_bool("save", save)
        table = runs_table(self._fitted.values(), name, self._usi)
        if save:
            self._message(f"logs written to {save_runs(table, name)}")
        return table

    # ---------------------------------------------------------------------- files

    def _save(self, model: Any, model_name: Any, model_only: bool, verbose: bool | None) -> Any:
        _check_bool("model_only", model_only)
        if verbose is not None:
            _check_bool("verbose", verbose)
        prepared = self._state()
        bundle, path = _storage.save_model(
            model_name, prepared, find_record(self._fitted, model), model_only=model_only
        )
        saved = "Model" if model_only else "Transformation Pipeline and Model"
        self._message(f"{saved} Successfully Saved to {path}", verbose)
        return bundle, path

    def save_model(
        self,
        model: Any,
        model_name: Any,
        model_only: bool = False,
        verbose: bool | None = None,
        **kwargs: Any,
    ) -> Path:
        """Save the preprocessing pipeline and ``model`` in one safe file; return its path.

        ``model_name`` without a suffix gets ``.clusterlab``; :meth:`load_model` accepts the
        name with or without it. ``model_only=True`` saves the model alone (it then labels
        prepared features). ``verbose`` prints PyCaret's line saying so (default: setup's
        ``verbose``; :class:`ClusteringExperiment`: True, as PyCaret). ``**kwargs`` are
        PyCaret's options for ``joblib.dump``: the safe file format has none, so they have no
        effect (said in one line).
        """
        _unused_options("save_model", "joblib.dump", kwargs)
        return self._save(model, model_name, model_only, verbose)[1]

    def load_model(
        self,
        model_name: Any,
        platform: str | None = None,
        authentication: dict[str, str] | None = None,
        verbose: bool | None = None,
    ) -> Any:
        """Load a model file written by :meth:`save_model` (name with or without its suffix).

        ``platform`` (PyCaret's cloud download) is refused: clusterlab loads files from disk,
        so download the file first; ``authentication`` goes with it and is unused.
        ``verbose`` as in :meth:`save_model`.
        """
        from clusterlab.persistence import load_model

        if platform is not None:
            raise ValueError(
                f"platform={platform!r}: clusterlab loads model files from disk only; download "
                "the file from your storage and pass its path"
            )
        if verbose is not None:
            _check_bool("verbose", verbose)
        loaded = load_model(model_name)
        self._message("Transformation Pipeline and Model Successfully Loaded", verbose)
        return loaded

    def deploy_model(
        self, model: Any, model_name: str, authentication: dict, platform: str = "aws"
    ) -> None:
        """PyCaret uploads the model to a cloud bucket; clusterlab has no cloud deployment.

        Raises
        ------
        NotImplementedError
            Always, saying what to use instead.
        """
        raise NotImplementedError(
            f"deploy_model: clusterlab does not deploy to the cloud (platform={platform!r}); "
            f"save the model with save_model(model, {model_name!r}), copy the file where it is "
            "needed and label new data with load_model + predict_model, or with "
            f"`clusterlab predict {model_name}.clusterlab new.csv --out labelled.csv`"
        )

    def save_experiment(self, path_or_file: Any, **cloudpickle_kwargs: Any) -> Any:
        """Save setup and every fitted model (not the data) to one safe experiment file; reload
        it with :meth:`load_experiment` (name with or without its ``.clusterlab`` suffix).

        ``**cloudpickle_kwargs`` are PyCaret's pickling options: the safe format has none, so
        they have no effect (said in one line).
        """
        _unused_options("save_experiment", "cloudpickle", cloudpickle_kwargs)
        prepared = self._state()
        custom = self._metrics.custom()
        if custom:
            logger.warning("custom metrics %s are not saved (they are code)", custom)
        return _storage.save_experiment(
            path_or_file, prepared, self._fitted.values(), self._k_selection, self.search_size
        )

    @classmethod
    def load_experiment(
        cls,
        path_or_file: Any,
        data: Any = None,
        data_func: Callable[[], Any] | None = None,
        preprocess_data: bool = True,
        **cloudpickle_kwargs: Any,
    ) -> Experiment:
        """Rebuild a saved experiment on the data setup saw, without refitting anything.

        Give ``data`` or ``data_func``. With ``preprocess_data`` (the default) setup's ``index``
        option is applied to it again; ``preprocess_data=False`` takes it as it is (e.g. the
        experiment's ``data`` saved on its own). ``**cloudpickle_kwargs`` have no effect.
        """
        _unused_options("load_experiment", "cloudpickle", cloudpickle_kwargs)
        _check_bool("preprocess_data", preprocess_data)
        restored = _storage.load_experiment(
            path_or_file, data, data_func=data_func, preprocess_data=preprocess_data
        )
        exp = cls()
        exp._prepared = restored.prepared
        exp._fitted.update(restored.records)
        exp._k_selection.update(restored.k_selection)
        exp.search_size = restored.search_size
        exp._shown = [exp._setup_table()]
        return exp
