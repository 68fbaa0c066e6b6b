"""The low-code workflow: :class:`Experiment` and the modules it delegates to.

- :mod:`~clusterlab.workflow.prepared`: the frozen prepared state, built by :func:`prepare`;
- :mod:`~clusterlab.workflow.records`: :class:`FittedModel`, what is kept about a fitted model;
- :mod:`~clusterlab.workflow.fitting`: model id or estimator -> fitted, scored record;
- :mod:`~clusterlab.workflow.scoring` and :mod:`~clusterlab.workflow.ranking`: metrics of a
  labelling and the rank rule;
- :mod:`~clusterlab.workflow.keys`: how compare chooses each model's key hyperparameter;
- :mod:`~clusterlab.workflow.compare` (:class:`Leaderboard`) and
  :mod:`~clusterlab.workflow.tune` (:class:`TuneResult`);
- :mod:`~clusterlab.workflow.labels`, :mod:`~clusterlab.workflow.evaluate`: labels out, the
  text summary and the plot glue;
- :mod:`~clusterlab.workflow.storage`: model and experiment files;
- :mod:`~clusterlab.workflow.config`, :mod:`~clusterlab.workflow.runs`: setup variables and
  the table of runs (``get_config``, ``get_logs``);
- :mod:`~clusterlab.workflow.experiment`: the facade, composed of its method groups
  (:mod:`~clusterlab.workflow.setup_methods`, :mod:`~clusterlab.workflow.metric_methods`,
  :mod:`~clusterlab.workflow.insight_methods`, :mod:`~clusterlab.workflow.file_methods`) on the
  shared state of :mod:`~clusterlab.workflow.session`; :mod:`~clusterlab.workflow.pycaret`:
  :class:`ClusteringExperiment`, its PyCaret flavour.
"""

from __future__ import annotations

from clusterlab.workflow.compare import Leaderboard
from clusterlab.workflow.experiment import Experiment
from clusterlab.workflow.prepared import Prepared, prepare
from clusterlab.workflow.pycaret import ClusteringExperiment
from clusterlab.workflow.ranking import rank_models
from clusterlab.workflow.records import FittedModel
from clusterlab.workflow.tune import TuneResult

__all__ = [
    "ClusteringExperiment",
    "Experiment",
    "FittedModel",
    "Leaderboard",
    "Prepared",
    "TuneResult",
    "prepare",
    "rank_models",
]
