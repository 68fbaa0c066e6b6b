"""Covariance kinds of the mixture kernels (:mod:`clusterlab.kernels.mixture`), importable
without numba."""

from __future__ import annotations

__all__ = ["DIAG", "FULL", "SPHERICAL", "TIED"]

FULL = 0
TIED = 1
DIAG = 2
SPHERICAL = 3
