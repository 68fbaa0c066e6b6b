"""Clustering estimators with the scikit-learn contract."""
