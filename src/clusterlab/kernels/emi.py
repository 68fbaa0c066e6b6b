"""Expected mutual information of two labelings under the permutation (hypergeometric) model."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from clusterlab._config import CACHE

__all__ = ["expected_mutual_information"]


@njit(cache=CACHE)
def expected_mutual_information(a: np.ndarray, b: np.ndarray, n: int) -> float:
    """Expected mutual information (natural log) of a random labeling pair with fixed margins.

    Sums, for every class i and cluster j, ``nij / n * log(n * nij / (a_i b_j))`` weighted by the
    hypergeometric probability of the cell count ``nij``, over the feasible range
    ``max(1, a_i + b_j - n) <= nij <= min(a_i, b_j)``; the probabilities are evaluated in log
    space with ``lgamma`` so that large counts do not overflow. Time O(sum_ij min(a_i, b_j)),
    which is at most n * min(n_classes, n_clusters); memory O(1) beyond the inputs.

    Parameters
    ----------
    a : ndarray of int64, shape (n_classes,)
        Class sizes, all > 0, summing to ``n``. Read only.
    b : ndarray of int64, shape (n_clusters,)
        Cluster sizes, all > 0, summing to ``n``. Read only.
    n : int
        Number of points.

    Returns
    -------
    float
        The expected mutual information; 0 when either labeling has a single group.
    """
    if a.shape[0] == 1 or b.shape[0] == 1:
        return 0.0
    log_n = math.log(n)
    gln_n = math.lgamma(n + 1.0)
    # Row by row, summed in a fixed order, so that the result never depends on a thread count.
    total = 0.0
    for i in range(a.shape[0]):
        ai = a[i]
        log_a = math.log(ai)
        gln_a = math.lgamma(ai + 1.0) + math.lgamma(n - ai + 1.0)
        row = 0.0
        for j in range(b.shape[0]):
            bj = b[j]
            log_b = math.log(bj)
            gln_ab = gln_a + math.lgamma(bj + 1.0) + math.lgamma(n - bj + 1.0) - gln_n
            start = max(1, ai + bj - n)
            end = min(ai, bj)
            for nij in range(start, end + 1):
                log_term = log_n + math.log(nij) - log_a - log_b
                gln = (
                    gln_ab
                    - math.lgamma(nij + 1.0)
                    - math.lgamma(ai - nij + 1.0)
                    - math.lgamma(bj - nij + 1.0)
                    - math.lgamma(n - ai - bj + nij + 1.0)
                )
                row += nij / n * log_term * math.exp(gln)
        total += row
    return total
