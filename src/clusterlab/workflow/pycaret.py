"""PyCaret's flavour of the experiment: :class:`ClusteringExperiment`.

It is an :class:`~clusterlab.workflow.Experiment` with PyCaret 3's label values and return
values, so that a script written for ``pycaret.clustering.ClusteringExperiment`` (or the
functional API in :mod:`clusterlab.clustering`, which runs on one) runs with only the import
changed:

- labels are PyCaret's text: ``"Cluster 0"``, ``"Cluster 1"`` ..., and noise (DBSCAN, OPTICS,
  HDBSCAN) is ``"Cluster -1"``, which is what PyCaret writes for scikit-learn's -1; setup's
  ``label_format='integer'`` switches back to integers;
- ``save_model`` returns ``(saved pipeline, file name)``; it and ``load_model`` print PyCaret's
  line saying so unless ``verbose=False``;
- ``plot_model`` returns the file name whenever it saved the figure (``save=True``, a folder or
  a file name), the figure otherwise;
- ``plot_model`` and ``evaluate_model`` also take the method's keyword names of PyCaret's class
  (``feature_name``, ``plot_kwargs``, ``fold``, ``groups``, ``use_train_data``, ``verbose``).

Everything else (setup's options, ``create_model``'s keywords, PyCaret's metric ids, ``pull``,
``get_config``, engines ...) is the Experiment's own, shared by both flavours.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from clusterlab.workflow.experiment import Experiment

__all__ = ["ClusteringExperiment"]


def _no_folds(function: str, fold: Any, groups: Any) -> None:
    """PyCaret's cross-validation keywords mean nothing for clustering (PyCaret ignores them
    too): only None is accepted, so that a value is never silently dropped."""
    for name, value in (("fold", fold), ("groups", groups)):
        if value is not None:
            raise ValueError(
                f"{function}: {name}={value!r} is a cross-validation option; clustering has no "
                "folds (PyCaret ignores it too), so leave it None"
            )


class ClusteringExperiment(Experiment):
    """PyCaret 3's ``ClusteringExperiment``: an :class:`Experiment` with PyCaret's label values
    (``"Cluster 0"`` ..., noise ``"Cluster -1"``) and return values (see the module docstring).

    Examples
    --------
    >>> from clusterlab import ClusteringExperiment
    >>> from clusterlab.datasets import load_wholesale_customers
    >>> exp = ClusteringExperiment()
    >>> exp = exp.setup(load_wholesale_customers(), normalize=True, session_id=1, verbose=False)
    >>> kmeans = exp.create_model("kmeans", num_clusters=3, verbose=False)
    >>> sorted(exp.assign_model(kmeans)["Cluster"].unique())
    ['Cluster 0', 'Cluster 1', 'Cluster 2']
    """

    default_label_format = "pycaret"

    def save_model(  # type: ignore[override] - PyCaret's return value
        self,
        model: Any,
        model_name: Any,
        model_only: bool = False,
        verbose: bool = True,
        **kwargs: Any,
    ) -> tuple[Any, str]:
        """Save as :meth:`Experiment.save_model` does; return PyCaret's
        ``(saved pipeline, file name)`` (with ``model_only``: the model and the file name)."""
        from clusterlab.workflow.session import unused_options

        unused_options("save_model", "joblib.dump", kwargs)
        bundle, path = self._save(model, model_name, model_only, verbose)
        return (model if model_only else bundle), str(path)

    def load_model(
        self,
        model_name: Any,
        platform: str | None = None,
        authentication: dict[str, str] | None = None,
        verbose: bool = True,
    ) -> Any:
        """As :meth:`Experiment.load_model`, saying so unless ``verbose=False`` (PyCaret)."""
        return super().load_model(model_name, platform, authentication, verbose)

    def plot_model(  # noqa: PLR0917 - PyCaret's positional order
        self,
        model: Any,
        plot: str = "cluster",
        feature: str | None = None,
        label: bool = False,
        scale: float = 1,
        save: Any = False,
        display_format: str | None = None,
        *,
        feature_name: str | None = None,
        plot_kwargs: dict[str, Any] | None = None,
        fold: Any = None,
        groups: Any = None,
        use_train_data: bool = False,
        verbose: bool = True,
        **kwargs: Any,
    ) -> Any:
        """Draw as :meth:`Experiment.plot_model` does; return the file name when the figure
        was saved (PyCaret's return value), else the figure.

        ``feature_name`` is ``feature`` under the name PyCaret's class uses; ``plot_kwargs``
        go to the plot; ``use_train_data`` and ``verbose`` are accepted (the plot always shows
        the training rows, and shows nothing itself).
        """
        _no_folds("plot_model", fold, groups)
        if feature_name is not None:
            if feature is not None and feature != feature_name:
                raise ValueError("give feature or feature_name (the same option), not both")
            feature = feature_name
        result = super().plot_model(
            model,
            plot,
            feature,
            label,
            scale,
            save,
            display_format,
            **{**(plot_kwargs or {}), **kwargs},
        )
        if isinstance(save, str | Path) and not isinstance(result, str):
            return str(save)  # a file name was given: PyCaret returns what it wrote
        return result

    def evaluate_model(  # type: ignore[override] - PyCaret's keyword names
        self,
        model: Any,
        feature: str | None = None,
        fit_kwargs: dict[str, Any] | None = None,
        *,
        html: bool = False,
        feature_name: str | None = None,
        plot_kwargs: dict[str, Any] | None = None,
        fold: Any = None,
        groups: Any = None,
    ) -> str:
        """As :meth:`Experiment.evaluate_model`; ``feature_name`` is PyCaret's class's name for
        ``feature`` and ``plot_kwargs`` is accepted (the summary draws no plot)."""
        _no_folds("evaluate_model", fold, groups)
        if plot_kwargs is not None and not isinstance(plot_kwargs, dict):
            raise TypeError(f"plot_kwargs must be None or a dict; got {plot_kwargs!r}")
        return super().evaluate_model(model, feature or feature_name, fit_kwargs, html=html)
