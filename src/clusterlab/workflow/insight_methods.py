"""The experiment's insight methods: ``plot_model``, ``evaluate_model``, ``report`` and
``get_logs`` (the work is :mod:`.evaluate`'s, :mod:`.reporting`'s and :mod:`.runs`')."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from clusterlab.workflow import evaluate as _evaluate
from clusterlab.workflow.records import find_record
from clusterlab.workflow.runs import runs_table, save_runs
from clusterlab.workflow.session import Session, check_bool, check_mapping

__all__ = ["InsightMethods"]


class InsightMethods(Session):
    """Figures, summaries, the HTML report and the table of runs of the fitted models."""

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

        A model of categories (k-modes, k-prototypes, Gower k-medoids) read setup's raw view
        of the categorical columns, whose codes have no geometry: its 'silhouette' is under
        Gower's distance (as the leaderboard scores it), its 'elbow' refits it on that view
        and draws its own loss, and the projections ('cluster', 'cluster3d', 'distance',
        'tsne', 'umap') draw the one-hot features of the same rows with its labels (medoids at
        their own rows, prototypes as each cluster's mean;
        :func:`clusterlab.workflow.evaluate.raw_view_inputs`).

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
        check_mapping("fit_kwargs", fit_kwargs)
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
        check_bool("save", save)
        table = runs_table(self._fitted.values(), name, self._usi)
        if save:
            self._message(f"logs written to {save_runs(table, name)}")
        return table
