"""How compare_models chooses each model's key hyperparameter, as its registry entry says.

- :class:`~clusterlab.models.ChooseK` (every model that takes k): k in ``k_range`` (2..10) is
  chosen by :func:`clusterlab.selection.choose_k` along the entry's k path (the gap statistic
  leads, and the elbow, Silhouette, Calinski-Harabasz and Davies-Bouldin confirm or decide
  within its one-standard-error band; BIC leads for the Gaussian mixture, the eigengap for
  spectral clustering), seeded with ``session_id``, on a random sample of the entry's ``rows``
  (k-means: up to 100,000 rows, which choose_k samples further itself: k-means fits on 20,000,
  Silhouette on 4,000, gap statistic on 1,000) or of ``search_size`` rows (every other model,
  fitted for each k on all the rows it is given). The gap statistic's references are refitted by
  the model itself, ``n_refs`` of them (k-means: 10 single cheap k-means++ runs; others: 3).
  Models with ``warm_init`` (k-means, mini-batch k-means) then fit from the centers of
  choose_k's labelling at the chosen k, so the model keeps the optimum choose_k reached rather
  than a fresh single seeding's.
  A model that reads setup's raw view of categorical columns (k-modes, k-prototypes, Gower
  k-medoids on data with categorical columns) is chosen by the Gower silhouette instead
  (:mod:`clusterlab.workflow.gower_k`): Euclidean criteria mean nothing between category codes.
- :class:`~clusterlab.models.SizeSearch` (HDBSCAN's min_cluster_size): each value is fitted on
  a sample of ``search_size`` rows, the labellings are ranked by the rank rule of
  :mod:`clusterlab.workflow.ranking`, and the best is scaled to the full data.
- none (DBSCAN's eps, mean shift's bandwidth): the entry's data-dependent default.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from clusterlab.models import REGISTRY, ChooseK, DataContext, ModelEntry, SizeSearch
from clusterlab.workflow.categories import view_for
from clusterlab.workflow.fitting import engine_of
from clusterlab.workflow.gower_k import choose_k_by_gower
from clusterlab.workflow.prepared import Prepared
from clusterlab.workflow.ranking import criteria, order
from clusterlab.workflow.scoring import MetricSet, score

__all__ = ["choose_key", "warm_init"]


def choose_key(
    model: Any, prepared: Prepared, *, metrics: MetricSet, search_size: int
) -> tuple[dict[str, Any], Any]:
    """The key hyperparameter chosen for ``model`` and choose_k's result when it was k.

    An estimator given as an instance keeps its own parameters, and so does an id built by an
    engine whose class has no such parameter.
    """
    if not isinstance(model, str):
        return {}, None
    entry = REGISTRY[model]
    engine = engine_of(entry, prepared)
    if entry.key_param is not None and not entry.takes(entry.key_param, engine):
        return {}, None  # e.g. scikit-learn's AffinityPropagation: it finds k itself
    search = entry.key_search
    prepared, fixed = view_for(entry, {}, prepared)
    context = prepared.context(search_size)
    if isinstance(search, ChooseK) and prepared.categorical:
        X = context.sample(search.rows)
        sample = DataContext(X, context.seed, context.search_size)

        def build(k: int) -> Any:
            given = {**fixed, entry.key_param: k}
            return entry.build(engine, **{**entry.default_params(sample, given), **given})

        selection = choose_k_by_gower(
            build, X, prepared.categorical, search.k_range, seed=context.seed
        )
        return {entry.key_param: selection.best_k}, selection
    if isinstance(search, ChooseK):
        X = context.sample(search.rows)
        selection = _choose_k(entry, engine, search, X, context, fixed=fixed)
        params = {entry.key_param: selection.best_k}
        if entry.warm_init:
            params.update(warm_init(X, selection))
        return params, selection
    if isinstance(search, SizeSearch):
        sample_size = prepared.options.sample_size
        found = _search_size(
            entry, engine, search, context=context, metrics=metrics, sample_size=sample_size
        )
        return found, None
    return {}, None


def _choose_k(
    entry: ModelEntry,
    engine: str,
    search: ChooseK,
    X: np.ndarray,
    context: DataContext,
    *,
    fixed: dict[str, Any],
) -> Any:
    from sklearn.exceptions import ConvergenceWarning

    from clusterlab.selection import choose_k

    ks = [k for k in search.k_range if k <= len(X) - 1]
    if len(ks) < 2:
        raise ValueError(
            f"too few rows ({len(X)}) to choose k: choosing among at least two values of k "
            "needs 4 rows or more"
        )
    sample = DataContext(X, context.seed, context.search_size)
    given = {entry.key_param: ks[0], **fixed}
    base = entry.build(engine, **{**entry.default_params(sample, given), **fixed})
    with warnings.catch_warnings():
        # a k larger than the data supports shows in the scores, not as a warning
        warnings.simplefilter("ignore", ConvergenceWarning)
        return choose_k(X, model=base, k_range=ks, random_state=context.seed, n_refs=search.n_refs)


def _search_size(
    entry: ModelEntry,
    engine: str,
    search: SizeSearch,
    *,
    context: DataContext,
    metrics: MetricSet,
    sample_size: int,
) -> dict[str, Any]:
    sample = context.sample()
    scale = len(context.X) / len(sample)
    rows = {}
    for size in search.values:
        if size * 2 > len(sample):
            break
        labels = np.asarray(entry.build(engine, **{entry.key_param: size}).fit(sample).labels_)
        rows[size] = score(
            sample,
            labels.astype(np.int64),
            None,
            metrics,
            sample_size=sample_size,
            seed=context.seed,
        )
    if not rows:
        return {}
    frame = pd.DataFrame.from_dict(rows, orient="index")
    best = int(order(frame, criteria(frame, metrics, "auto", False)).index[0])
    return {entry.key_param: max(search.minimum, round(best * scale))}


def warm_init(X: np.ndarray, selection: Any) -> dict[str, Any]:
    """``init`` at the centers of choose_k's labelling of ``X``, so that the final fit keeps the
    optimum choose_k reached (its forward and backward passes can find a better one than a
    single seeding: on the wholesale data a fresh k = 2 fit lands at 1.2x the inertia). Nothing
    when a cluster of that labelling is empty."""
    labels = np.asarray(selection.labels_)
    counts = np.bincount(labels, minlength=selection.best_k)
    if counts.size != selection.best_k or not counts.all():
        return {}
    sums = np.zeros((selection.best_k, X.shape[1]))
    np.add.at(sums, labels, X)
    return {"init": sums / counts[:, None]}
