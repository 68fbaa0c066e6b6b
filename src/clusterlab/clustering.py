"""PyCaret's functional API for clustering, as a thin shim over one explicit default Experiment.

A PyCaret script runs with only the import changed::

    from clusterlab.clustering import *
    clustering = setup(data, normalize=True)
    best_model = compare_models()
    kmeans = create_model('kmeans')
    labels = assign_model(kmeans)

``setup`` creates a new :class:`~clusterlab.workflow.Experiment`, makes it the default and
returns it; every other function calls the same-named method of the default experiment (see
:func:`get_experiment` / :func:`set_experiment`). Use the Experiment object directly to run
several experiments side by side.

Importing this module is cheap: pandas, scikit-learn and the experiment are imported on the first
call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from clusterlab.persistence import ClusterPipeline
    from clusterlab.workflow import Experiment

__all__ = [
    "add_metric",
    "assign_model",
    "compare_models",
    "create_model",
    "evaluate_model",
    "get_config",
    "get_experiment",
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
    "set_experiment",
    "setup",
    "tune_model",
]

_DEFAULT: list[Experiment] = []


def get_experiment() -> Experiment:
    """The default experiment the functions act on (the one ``setup`` made last)."""
    if not _DEFAULT:
        raise RuntimeError("no experiment yet: call setup(data, ...) first")
    return _DEFAULT[0]


def set_experiment(experiment: Experiment) -> None:
    """Make ``experiment`` the default for the functions of this module."""
    from clusterlab.workflow import Experiment

    if not isinstance(experiment, Experiment):
        raise TypeError(f"experiment must be an Experiment; got {type(experiment).__name__}")
    _DEFAULT[:] = [experiment]


def setup(data: Any = None, **options: Any) -> Experiment:
    """Create an experiment on ``data``, make it the default and return it.

    See :meth:`clusterlab.workflow.Experiment.setup` for the options.

    Examples
    --------
    >>> from clusterlab.clustering import setup, create_model, assign_model
    >>> from clusterlab.datasets import load_wholesale_customers
    >>> exp = setup(load_wholesale_customers(), normalize=True, session_id=1, verbose=False)
    >>> len(assign_model(create_model("kmeans", verbose=False)))
    440
    """
    from clusterlab.workflow import Experiment

    experiment = Experiment(data, **options)
    set_experiment(experiment)
    return experiment


def models(internal: bool = False) -> pd.DataFrame:
    """The model registry (see :meth:`Experiment.models`); needs no setup."""
    from clusterlab.workflow import Experiment

    return (get_experiment() if _DEFAULT else Experiment()).models(internal=internal)


def create_model(
    model: Any,
    num_clusters: int | None = None,
    ground_truth: str | None = None,
    verbose: bool | None = None,
    **params: Any,
) -> Any:
    """Fit and score a model (see :meth:`Experiment.create_model`)."""
    return get_experiment().create_model(
        model, num_clusters=num_clusters, ground_truth=ground_truth, verbose=verbose, **params
    )


def compare_models(  # noqa: PLR0917 - PyCaret's positional order
    include: Any = None,
    exclude: Any = None,
    sort: str = "auto",
    n_select: int = 1,
    budget_time: float | None = None,
    turbo: bool = True,
    verbose: bool | None = None,
) -> Any:
    """Fit, score and rank every applicable model (see :meth:`Experiment.compare_models`)."""
    return get_experiment().compare_models(
        include=include,
        exclude=exclude,
        sort=sort,
        n_select=n_select,
        budget_time=budget_time,
        turbo=turbo,
        verbose=verbose,
    )


def tune_model(  # noqa: PLR0917 - PyCaret's positional order
    model: Any,
    search_space: dict | None = None,
    optimize: Any = None,
    n_iter: int = 10,
    ground_truth: str | None = None,
    verbose: bool | None = None,
) -> Any:
    """Search hyperparameters (see :meth:`Experiment.tune_model`)."""
    return get_experiment().tune_model(
        model,
        search_space=search_space,
        optimize=optimize,
        n_iter=n_iter,
        ground_truth=ground_truth,
        verbose=verbose,
    )


def assign_model(
    model: Any, label_name: str = "Cluster", probabilities: bool = False
) -> pd.DataFrame:
    """The original data plus the label column (see :meth:`Experiment.assign_model`)."""
    return get_experiment().assign_model(model, label_name=label_name, probabilities=probabilities)


def predict_model(model: Any, data: Any, label_name: str = "Cluster") -> pd.DataFrame:
    """Label new data (see :meth:`Experiment.predict_model`).

    A model returned by :func:`load_model` needs no setup.
    """
    from clusterlab.persistence import ClusterPipeline

    if isinstance(model, ClusterPipeline):
        return model.predict_frame(data, label_name=label_name)
    return get_experiment().predict_model(model, data, label_name=label_name)


def plot_model(model: Any, plot: str = "cluster", save: Any = None, **kwargs: Any) -> Any:
    """Draw a figure (see :meth:`Experiment.plot_model`)."""
    return get_experiment().plot_model(model, plot=plot, save=save, **kwargs)


def evaluate_model(model: Any, html: bool = False) -> str:
    """A text or HTML summary of a model (see :meth:`Experiment.evaluate_model`)."""
    return get_experiment().evaluate_model(model, html=html)


def get_metrics() -> pd.DataFrame:
    """The metrics in use (see :meth:`Experiment.get_metrics`)."""
    return get_experiment().get_metrics()


def add_metric(
    id: str,  # PyCaret's name
    name: str,
    score_func: Any,
    greater_is_better: bool = True,
    needs_ground_truth: bool = False,
) -> pd.Series:
    """Add a metric (see :meth:`Experiment.add_metric`)."""
    return get_experiment().add_metric(
        id,
        name,
        score_func,
        greater_is_better=greater_is_better,
        needs_ground_truth=needs_ground_truth,
    )


def remove_metric(name_or_id: str) -> None:
    """Remove a metric (see :meth:`Experiment.remove_metric`)."""
    get_experiment().remove_metric(name_or_id)


def pull() -> pd.DataFrame:
    """The last table shown (see :meth:`Experiment.pull`)."""
    return get_experiment().pull()


def get_config(variable: str | None = None) -> Any:
    """A setup variable, e.g. ``'X_transformed'`` (see :meth:`Experiment.get_config`)."""
    return get_experiment().get_config(variable)


def set_config(variable: str, value: Any) -> None:
    """Change a setup variable (see :meth:`Experiment.set_config`)."""
    get_experiment().set_config(variable, value)


def save_model(model: Any, model_name: Any) -> Any:
    """Save preprocessing and ``model`` in one safe file; return the path written."""
    return get_experiment().save_model(model, model_name)


def load_model(model_name: Any) -> ClusterPipeline:
    """Load a model file; what it returns is accepted by :func:`predict_model`."""
    from clusterlab.persistence import load_model as _load

    return _load(model_name)


def save_experiment(path_or_file: Any) -> Any:
    """Save the default experiment (without its data); return the path written."""
    return get_experiment().save_experiment(path_or_file)


def load_experiment(path_or_file: Any, data: Any) -> Experiment:
    """Load a saved experiment on ``data``, make it the default and return it."""
    from clusterlab.workflow import Experiment

    experiment = Experiment.load_experiment(path_or_file, data)
    set_experiment(experiment)
    return experiment
