"""The experiment's metric methods: ``get_metrics``, ``add_metric``, ``remove_metric`` (PyCaret
3's names and ids; the metrics themselves are :mod:`.scoring`'s :class:`MetricSet`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from clusterlab.workflow.session import Session, check_bool

__all__ = ["MetricMethods"]


class MetricMethods(Session):
    """The metrics every fit is scored with (see :class:`~clusterlab.Experiment`)."""

    def get_metrics(
        self, reset: bool = False, include_custom: bool = True, raise_errors: bool = True
    ) -> pd.DataFrame:
        """The metrics used to score models, indexed by id (PyCaret's id in ``PyCaret ID``).

        ``reset=True`` first restores the default metrics (custom ones dropped, removed ones
        back); ``include_custom=False`` leaves the added ones out of the table.
        ``raise_errors`` is accepted for PyCaret's signature: no metric can fail to load.
        """
        check_bool("raise_errors", raise_errors)
        if reset:
            self._metrics.reset()
        return self._metrics.table(include_custom=include_custom)

    def add_metric(
        self,
        id: str,
        name: str,
        score_func: Callable[..., float],
        greater_is_better: bool = True,
        needs_ground_truth: bool = False,
        *,
        target: str = "pred",
        multiclass: bool = True,
        **kwargs: Any,
    ) -> pd.Series:
        """Add a metric ``score_func(X, labels, **kwargs)`` (``score_func(y, labels, **kwargs)``
        with ground truth), scored by every later fit.

        ``target`` must be ``'pred'`` (PyCaret's only target for clustering: the labels);
        ``multiclass`` is accepted for PyCaret's signature (a clustering has as many labels as
        it has). Returns the metric's row of :meth:`get_metrics`.
        """
        if target != "pred":
            raise ValueError(
                f"target must be 'pred' (a clustering metric scores the labels); got {target!r}"
            )
        check_bool("multiclass", multiclass)
        self._metrics.add(id, name, score_func, greater_is_better, needs_ground_truth, **kwargs)
        return self.get_metrics().loc[id]

    def remove_metric(self, name_or_id: str) -> None:
        """Remove a metric by id, PyCaret id (``'cs'``, ``'chs'``, ``'hs'`` ...) or name."""
        self._metrics.remove(name_or_id)
