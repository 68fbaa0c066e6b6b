"""Insight into segments: profiles, plain-language rules and anomaly scores.

Every function takes explicit inputs (the data, the labels, a fitted model), so it works on its
own and under :class:`clusterlab.Experiment`.
"""

from clusterlab.insight.anomalies import (
    THRESHOLD,
    anomaly_scores,
    anomaly_threshold,
    flag_anomalies,
    top_anomalies,
)
from clusterlab.insight.profiles import SegmentProfiles, profile_segments
from clusterlab.insight.rules import SegmentRules, describe_segments
from clusterlab.insight.scorer import AnomalyScorer

__all__ = [
    "THRESHOLD",
    "AnomalyScorer",
    "SegmentProfiles",
    "SegmentRules",
    "anomaly_scores",
    "anomaly_threshold",
    "describe_segments",
    "flag_anomalies",
    "profile_segments",
    "top_anomalies",
]
