"""Clustering estimators with the scikit-learn contract."""

from clusterlab.cluster.hierarchy import AgglomerativeClustering, Genie, linkage

__all__ = ["AgglomerativeClustering", "Genie", "linkage"]
