"""The mini-batch k-means center update (Sculley 2010, with scikit-learn's per-center counts).

Each center keeps the total weight of the points it has absorbed so far (its *count*). A batch
moves center ``c`` to the weighted mean of everything it has seen::

    new_c = (count_c * old_c + sum_{i in batch, label_i = c} w_i x_i) / (count_c + batch_weight_c)

which is the per-point learning rate ``w_i / count_c`` of the paper applied to the whole batch at
once. Centers that receive no point in the batch stay where they are. This is the update of
scikit-learn's ``MiniBatchKMeans`` (``_minibatch_update_dense``), computed in the same order so the
two agree to rounding.

Assigning the batch to its nearest centers is the Lloyd kernel's job
(:func:`clusterlab.kernels.lloyd`); this module only updates centers and counts.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from clusterlab._config import CACHE

__all__ = ["minibatch_update"]


@njit(cache=CACHE)
def minibatch_update(X, sample_weight, labels, centers_old, centers_new, counts):  # noqa: PLR0917
    """Move every center to the mean of what it has seen, after one mini-batch.

    Parameters
    ----------
    X : ndarray of shape (n_batch, n_features), float32 or float64, read
        The batch.
    sample_weight : ndarray of shape (n_batch,), float32 or float64, read
        Weight of each batch point.
    labels : ndarray of shape (n_batch,), integer, read
        Nearest center of each batch point, in ``[0, n_clusters)``, computed with ``centers_old``.
    centers_old : ndarray of shape (n_clusters, n_features), X's dtype, read
        Centers before the batch.
    centers_new : ndarray of shape (n_clusters, n_features), X's dtype, written
        Centers after the batch. May be the same array as ``centers_old`` (in-place update).
    counts : ndarray of shape (n_clusters,), float64, read and written
        Total weight absorbed by each center so far; the batch's weight is added.

    Notes
    -----
    The work is O(n_batch * n_features), small next to the assignment of the batch
    (O(n_batch * n_clusters * n_features)), so it runs on one thread: a parallel loop would cost
    more to start than it saves, and one thread makes the result independent of the thread count.
    Sums are accumulated in float64 whatever the dtype of ``X``.
    """
    n_batch, n_features = X.shape
    n_clusters = centers_old.shape[0]
    batch_weight = np.zeros(n_clusters, dtype=np.float64)
    for i in range(n_batch):
        batch_weight[labels[i]] += sample_weight[i]

    # Undo the previous averaging (count * old center), add the batch, divide by the new count:
    # the same operations in the same order as scikit-learn, so float64 results match to rounding.
    sums = np.empty((n_clusters, n_features), dtype=np.float64)
    for c in range(n_clusters):
        for j in range(n_features):
            sums[c, j] = centers_old[c, j] * counts[c]
    for i in range(n_batch):
        c = labels[i]
        w = sample_weight[i]
        for j in range(n_features):
            sums[c, j] += X[i, j] * w

    for c in range(n_clusters):
        if batch_weight[c] > 0:
            counts[c] += batch_weight[c]
            alpha = 1.0 / counts[c]
            for j in range(n_features):
                centers_new[c, j] = sums[c, j] * alpha
        else:
            for j in range(n_features):
                centers_new[c, j] = centers_old[c, j]
