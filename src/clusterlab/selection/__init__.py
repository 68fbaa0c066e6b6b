"""Choosing the number of clusters, and checking whether clusters are real.

:func:`choose_k` fits a model for every k in a range, scores each fit by several criteria and
recommends one k by a documented rule (one criterion leads, the others confirm);
:func:`stability` refits a model on random subsamples and reports how often each cluster
reappears.

- :mod:`~clusterlab.selection.choose_k`: :func:`choose_k`, :class:`ChooseKResult` and the
  recommendation rule;
- :mod:`~clusterlab.selection.paths`: the k paths (how a model is fitted for every k), chosen
  by the model's registry entry;
- :mod:`~clusterlab.selection.criteria`: the criteria and their votes;
- :mod:`~clusterlab.selection.stability`: :func:`stability`, :class:`StabilityResult`.
"""

from __future__ import annotations

from clusterlab.selection.choose_k import LEADERS, ChooseKResult, choose_k
from clusterlab.selection.criteria import CRITERIA, DEFAULT_CRITERIA
from clusterlab.selection.stability import REAPPEAR_JACCARD, StabilityResult, stability

__all__ = [
    "CRITERIA",
    "DEFAULT_CRITERIA",
    "LEADERS",
    "REAPPEAR_JACCARD",
    "ChooseKResult",
    "StabilityResult",
    "choose_k",
    "stability",
]
