"""PyCaret 3's functional API for clustering, as a thin shim over one explicit default experiment.

A PyCaret script runs with only the import changed::

    from clusterlab.clustering import *
    clustering = setup(data, normalize=True)
    kmeans = create_model('kmeans')
    labels = assign_model(kmeans)      # "Cluster 0", "Cluster 1" ... as PyCaret writes them

``setup`` creates a new :class:`~clusterlab.ClusteringExperiment` (PyCaret's label values and
return values), makes it the current experiment and returns it; every other function calls the
same-named method of the current experiment (:func:`get_current_experiment`,
:func:`set_current_experiment`). Use experiment objects directly to run several side by side;
``clusterlab.Experiment`` is the same workflow with integer labels. Functions PyCaret does not
have (``compare_models``, ``tune_model``) are clusterlab's own.

Importing this module is cheap: pandas, scikit-learn and the experiment are imported on the first
call (``from clusterlab.clustering import *`` imports the experiment class, which PyCaret's
module exports too).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from clusterlab.workflow import ClusteringExperiment, Experiment

__all__ = [
    "ClusteringExperiment",
    "add_metric",
    "assign_model",
    "compare_models",
    "create_model",
    "deploy_model",
    "evaluate_model",
    "get_allowed_engines",
    "get_config",
    "get_current_experiment",
    "get_engine",
    "get_experiment",
    "get_logs",
    "get_metrics",
    "load_experiment",
    "load_model",
    "models",
    "plot_model",
    "predict_model",
    "pull",
    "remove_metric",
    "save_experiment",
    "save_model",
    "set_config",
    "set_current_experiment",
    "set_experiment",
    "setup",
    "tune_model",
]

_CURRENT: list[Experiment] = []


def __getattr__(name: str) -> Any:
    if name == "ClusteringExperiment":
        from clusterlab.workflow import ClusteringExperiment

        return ClusteringExperiment
    raise AttributeError(f"module 'clusterlab.clustering' has no attribute {name!r}")


def _current() -> Experiment:
    if not _CURRENT:
        raise RuntimeError("no experiment yet: call setup(data, ...) first")
    return _CURRENT[0]


def get_current_experiment() -> Experiment | None:
    """The experiment the functions act on (the one ``setup`` made last), or None before any."""
    return _CURRENT[0] if _CURRENT else None


def set_current_experiment(experiment: Experiment) -> None:
    """Make ``experiment`` (a ClusteringExperiment, or any clusterlab Experiment) the one the
    functions of this module act on."""
    from clusterlab.workflow import Experiment

    if not isinstance(experiment, Experiment):
        raise TypeError(
            f"experiment must be a ClusteringExperiment (or an Experiment); "
            f"got {type(experiment).__name__}"
        )
    _CURRENT[:] = [experiment]


def get_experiment() -> Experiment:
    """The current experiment; a RuntimeError before ``setup`` (clusterlab's older name)."""
    return _current()


def set_experiment(experiment: Experiment) -> None:
    """:func:`set_current_experiment` under clusterlab's older name."""
    set_current_experiment(experiment)


def setup(data: Any = None, **options: Any) -> ClusteringExperiment:
    """Create a :class:`~clusterlab.ClusteringExperiment` on ``data``, make it the current
    experiment and return it.

    Every option of PyCaret 3's ``setup`` is accepted by name, with PyCaret's meaning (see
    :class:`~clusterlab.preprocessing.SetupOptions`; the README's PyCaret section lists each).

    Examples
    --------
    >>> from clusterlab.clustering import setup, create_model, assign_model
    >>> from clusterlab.datasets import load_wholesale_customers
    >>> exp = setup(load_wholesale_customers(), normalize=True, session_id=1, verbose=False)
    >>> sorted(assign_model(create_model("kmeans", verbose=False))["Cluster"].unique())
    ['Cluster 0', 'Cluster 1', 'Cluster 2', 'Cluster 3']
    """
    from clusterlab.workflow import ClusteringExperiment

    experiment = ClusteringExperiment(data, **options)
    set_current_experiment(experiment)
    return experiment


def get_allowed_engines(estimator: str) -> list[str]:
    """The engines a model id can be built with (see :meth:`Experiment.get_allowed_engines`)."""
    return _current().get_allowed_engines(estimator)


def get_engine(estimator: str) -> str:
    """The engine a model id is built with (see :meth:`Experiment.get_engine`)."""
    return _current().get_engine(estimator)


def models(internal: bool = False, raise_errors: bool = True) -> pd.DataFrame:
    """The model registry (see :meth:`Experiment.models`); needs no setup."""
    from clusterlab.workflow import ClusteringExperiment

    experiment = get_current_experiment() or ClusteringExperiment()
    return experiment.models(internal=internal, raise_errors=raise_errors)


def create_model(  # noqa: PLR0917 - PyCaret's positional order
    model: Any,
    num_clusters: int | None = None,
    ground_truth: str | None = None,
    round: int = 4,
    fit_kwargs: dict | None = None,
    verbose: bool | None = None,
    experiment_custom_tags: dict | None = None,
    engine: str | None = None,
    **kwargs: Any,
) -> Any:
    """Fit and score a model (see :meth:`Experiment.create_model`)."""
    return _current().create_model(
        model,
        num_clusters=num_clusters,
        ground_truth=ground_truth,
        round=round,
        fit_kwargs=fit_kwargs,
        verbose=verbose,
        experiment_custom_tags=experiment_custom_tags,
        engine=engine,
        **kwargs,
    )


def assign_model(model: Any, transformation: bool = False, verbose: bool = True) -> pd.DataFrame:
    """The data plus the ``Cluster`` column (see :meth:`Experiment.assign_model`)."""
    return _current().assign_model(model, transformation=transformation, verbose=verbose)


def plot_model(  # noqa: PLR0917 - PyCaret's positional order
    model: Any,
    plot: str = "cluster",
    feature: str | None = None,
    label: bool = False,
    scale: float = 1,
    save: Any = False,
    display_format: str | None = None,
    **kwargs: Any,
) -> Any:
    """Draw a figure; the file name when saved (see :meth:`Experiment.plot_model`)."""
    return _current().plot_model(model, plot, feature, label, scale, save, display_format, **kwargs)


def evaluate_model(model: Any, feature: str | None = None, fit_kwargs: dict | None = None) -> str:
    """A text summary of a model (see :meth:`Experiment.evaluate_model`)."""
    return _current().evaluate_model(model, feature=feature, fit_kwargs=fit_kwargs)


def predict_model(model: Any, data: Any) -> pd.DataFrame:
    """Label new data (see :meth:`Experiment.predict_model`).

    A model returned by :func:`load_model` needs no setup.
    """
    from clusterlab.persistence import ClusterPipeline

    experiment = get_current_experiment()
    if isinstance(model, ClusterPipeline):
        label_format = "pycaret" if experiment is None else experiment.label_format
        return model.predict_frame(data, "Cluster", label_format)
    return _current().predict_model(model, data)


def deploy_model(model: Any, model_name: str, authentication: dict, platform: str = "aws") -> None:
    """PyCaret's cloud deployment does not exist here (see :meth:`Experiment.deploy_model`)."""
    _current().deploy_model(model, model_name, authentication, platform)


def save_model(
    model: Any, model_name: Any, model_only: bool = False, verbose: bool = True, **kwargs: Any
) -> tuple[Any, str]:
    """Save preprocessing and ``model`` in one safe file; return ``(pipeline, file name)``."""
    return _current().save_model(model, model_name, model_only, verbose, **kwargs)


def load_model(
    model_name: Any,
    platform: str | None = None,
    authentication: dict | None = None,
    verbose: bool = True,
) -> Any:
    """Load a model file (name with or without ``.clusterlab``); needs no setup; what it
    returns is accepted by :func:`predict_model`."""
    from clusterlab.workflow import ClusteringExperiment

    experiment = get_current_experiment() or ClusteringExperiment()
    return experiment.load_model(model_name, platform, authentication, verbose)


def pull(pop: bool = False) -> pd.DataFrame:
    """The last table shown (see :meth:`Experiment.pull`)."""
    return _current().pull(pop=pop)


def get_metrics(
    reset: bool = False, include_custom: bool = True, raise_errors: bool = True
) -> pd.DataFrame:
    """The metrics in use (see :meth:`Experiment.get_metrics`)."""
    return _current().get_metrics(
        reset=reset, include_custom=include_custom, raise_errors=raise_errors
    )


def add_metric(  # noqa: PLR0917 - PyCaret's positional order
    id: str,  # PyCaret's name
    name: str,
    score_func: Callable[..., float],
    target: str = "pred",
    greater_is_better: bool = True,
    multiclass: bool = True,
    needs_ground_truth: bool = False,
    **kwargs: Any,
) -> pd.Series:
    """Add a metric ``score_func(X, labels, **kwargs)``, or ``score_func(y, labels, **kwargs)``
    with ``needs_ground_truth`` (see :meth:`Experiment.add_metric`)."""
    return _current().add_metric(
        id,
        name,
        score_func,
        greater_is_better=greater_is_better,
        needs_ground_truth=needs_ground_truth,
        target=target,
        multiclass=multiclass,
        **kwargs,
    )


def remove_metric(name_or_id: str) -> None:
    """Remove a metric, e.g. PyCaret's ``'cs'`` (see :meth:`Experiment.remove_metric`)."""
    _current().remove_metric(name_or_id)


def get_logs(experiment_name: str | None = None, save: bool = False) -> pd.DataFrame:
    """The models the current experiment fitted (see :meth:`Experiment.get_logs`)."""
    return _current().get_logs(experiment_name=experiment_name, save=save)


def get_config(variable: str | None = None) -> Any:
    """A setup variable, e.g. ``'X_train_transformed'`` (see :meth:`Experiment.get_config`)."""
    return _current().get_config(variable)


def set_config(variable: str | None = None, value: Any = None, **kwargs: Any) -> None:
    """Change a setup variable, e.g. ``set_config('seed', 123)`` (see
    :meth:`Experiment.set_config`)."""
    _current().set_config(variable, value, **kwargs)


def save_experiment(path_or_file: Any, **cloudpickle_kwargs: Any) -> Any:
    """Save the current experiment (without its data); return the path written."""
    return _current().save_experiment(path_or_file, **cloudpickle_kwargs)


def load_experiment(
    path_or_file: Any,
    data: Any = None,
    data_func: Callable[[], Any] | None = None,
    preprocess_data: bool = True,
    **cloudpickle_kwargs: Any,
) -> ClusteringExperiment:
    """Load a saved experiment on its data, make it the current one and return it."""
    from clusterlab.workflow import ClusteringExperiment

    experiment = ClusteringExperiment.load_experiment(
        path_or_file, data, data_func, preprocess_data, **cloudpickle_kwargs
    )
    set_current_experiment(experiment)
    return experiment


def compare_models(  # noqa: PLR0917 - PyCaret's positional order (its supervised modules)
    include: Any = None,
    exclude: Any = None,
    sort: str = "auto",
    n_select: int = 1,
    budget_time: float | None = None,
    turbo: bool = True,
    verbose: bool | None = None,
) -> Any:
    """clusterlab's own: fit, score and rank every applicable model, k chosen per model (see
    :meth:`Experiment.compare_models`)."""
    return _current().compare_models(
        include=include,
        exclude=exclude,
        sort=sort,
        n_select=n_select,
        budget_time=budget_time,
        turbo=turbo,
        verbose=verbose,
    )


def tune_model(  # noqa: PLR0917 - the order of PyCaret's supervised tune_model
    model: Any,
    search_space: dict | None = None,
    optimize: Any = None,
    n_iter: int = 10,
    ground_truth: str | None = None,
    verbose: bool | None = None,
) -> Any:
    """clusterlab's own: search hyperparameters by a validity index (see
    :meth:`Experiment.tune_model`)."""
    return _current().tune_model(
        model,
        search_space=search_space,
        optimize=optimize,
        n_iter=n_iter,
        ground_truth=ground_truth,
        verbose=verbose,
    )
