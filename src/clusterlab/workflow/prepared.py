"""The prepared data of an experiment: one frozen state, built once by :func:`prepare`.

:class:`Prepared` holds the setup options, the user's data (never modified), the fitted
:class:`~clusterlab.preprocessing.Preprocessor`, the prepared features of every row and of the
training rows, and the ground truth of the training rows. Nothing changes it in place: a call
that uses another ground-truth column, or a changed option, gets a new state.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from clusterlab.models import DataContext
from clusterlab.preprocessing import Preprocessor, SetupOptions, prepare_data

__all__ = ["Prepared", "prepare"]


@dataclass(frozen=True, eq=False)
class Prepared:
    """Everything ``setup`` made.

    Attributes
    ----------
    options : SetupOptions
        The setup options, grouped.
    data : pandas.DataFrame
        The data as given (values, index and column order).
    preprocessor : Preprocessor
        The fitted schema, pipeline and training mask.
    X_all : pandas.DataFrame
        Prepared features of every row of ``data``.
    X : pandas.DataFrame
        Prepared features of the training rows (``train_mask``).
    y : pandas.Series or None
        The ground-truth column on the training rows.
    """

    options: SetupOptions
    data: pd.DataFrame
    preprocessor: Preprocessor
    X_all: pd.DataFrame
    X: pd.DataFrame
    y: pd.Series | None

    @classmethod
    def from_preprocessor(cls, data: pd.DataFrame, preprocessor: Preprocessor) -> Prepared:
        """The state of ``data`` under a fitted (or restored) preprocessor."""
        mask = preprocessor.train_mask_
        X_all = preprocessor.transform(data)
        truth = preprocessor.options.columns.ground_truth
        y = data.loc[mask, truth] if truth is not None else None
        return cls(preprocessor.options, data, preprocessor, X_all, X_all.loc[mask], y)

    @property
    def train_mask(self) -> np.ndarray:
        """Which rows of ``data`` train models (the others were left out by setup)."""
        return self.preprocessor.train_mask_

    @property
    def train_data(self) -> pd.DataFrame:
        """The training rows of ``data``, in the user's units."""
        return self.data.loc[self.train_mask]

    @property
    def features(self) -> list[str]:
        """The columns of ``data`` the pipeline reads."""
        return list(self.preprocessor.features_)

    @property
    def seed(self) -> int | None:
        return self.options.session_id

    def context(self, search_size: int) -> DataContext:
        """What the registry's data-dependent behaviour sees: the training rows and the seed."""
        return DataContext(self.X.to_numpy(), self.seed, search_size)

    def with_ground_truth(self, column: str | None) -> Prepared:
        """This state with ``column`` (of ``data``, not a feature) as the ground truth."""
        if column is None:
            return self
        if column not in self.data.columns:
            raise ValueError(f"ground_truth {column!r} is not a column of the data")
        if column in self.preprocessor.features_:
            raise ValueError(
                f"ground_truth {column!r} is a feature of this setup; pass "
                f"ground_truth={column!r} (or ignore_features) to setup instead"
            )
        return dataclasses.replace(self, y=self.data.loc[self.train_mask, column])

    def with_option(self, name: str, value: Any) -> Prepared:
        """This state with one top-level option (``session_id``, ``sample_size``,
        ``verbose``) changed."""
        return dataclasses.replace(self, options=dataclasses.replace(self.options, **{name: value}))

    def summary(self) -> pd.DataFrame:
        """The setup table that ``pull()`` shows after ``setup``."""
        pre, opts = self.preprocessor, self.options
        dropped = pre.dropped_.value_counts()
        rows = {
            "Session id": opts.session_id,
            "Original data shape": self.data.shape,
            "Prepared data shape": self.X.shape,
            "Feature columns": len(pre.features_),
            "Ground truth": opts.columns.ground_truth,
            "Rows left out (missing values)": int(dropped.get("missing values", 0)),
            "Rows left out (outliers)": int(dropped.get("outlier", 0)),
            "Pipeline steps": ", ".join(name for name, _ in pre.pipeline_.steps),
        }
        return pd.DataFrame(
            {"Value": [str(v) for v in rows.values()]}, index=list(rows)
        ).rename_axis("Description")


def prepare(data: Any = None, **options: Any) -> Prepared:
    """Parse the setup options, infer the schema, fit the pipeline once and prepare the rows.

    Examples
    --------
    >>> import pandas as pd
    >>> state = prepare(pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0]}), normalize=True, verbose=False)
    >>> state.X.shape
    (4, 1)
    """
    opts = SetupOptions.parse(**options)
    frame = prepare_data(data, opts.data)  # index= and data_func= applied here
    return Prepared.from_preprocessor(frame, Preprocessor(opts).fit(frame))
