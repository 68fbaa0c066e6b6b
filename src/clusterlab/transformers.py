"""Small scikit-learn transformers for setup's pipeline that scikit-learn does not have.

- :class:`RareCategories` groups rare categories into one before encoding (``rare_to_value``);
- :class:`TextEmbedding` turns text columns into TF-IDF or bag-of-words columns, one vectorizer
  per column (``text_features``);
- :class:`IterativeImputation` fills numeric *and* categorical columns by chained equations
  (``imputation_type='iterative'``; scikit-learn's ``IterativeImputer`` is numeric only);
- :class:`GroupFeatures` adds row statistics of groups of columns (``group_features``);
- :class:`VarianceFilter` is scikit-learn's ``VarianceThreshold`` that never drops the columns of
  ``keep_features``.

Each is a plain scikit-learn transformer (``get_feature_names_out``, pandas output, ``clone``)
built only from data and scikit-learn objects, so that model files stay loadable without
running code: :data:`TRUSTED_TYPES` lists them for the model-file allowlist.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.feature_selection import VarianceThreshold
from sklearn.utils.validation import check_is_fitted

__all__ = [
    "TRUSTED_TYPES",
    "GroupFeatures",
    "IterativeImputation",
    "RareCategories",
    "TextEmbedding",
    "VarianceFilter",
    "imputation_estimator",
    "kept_columns",
    "sturges_bins",
]

#: Qualified names of this module's classes, for the model-file allowlist
#: (``clusterlab.persistence``): they hold only data and scikit-learn objects.
TRUSTED_TYPES = frozenset(
    f"clusterlab.transformers.{name}"
    for name in (
        "GroupFeatures",
        "IterativeImputation",
        "RareCategories",
        "TextEmbedding",
        "VarianceFilter",
    )
)


def _frame(X: Any) -> pd.DataFrame:
    return X if isinstance(X, pd.DataFrame) else pd.DataFrame(X)


def _record_input(est: Any, frame: pd.DataFrame) -> None:
    est.feature_names_in_ = np.asarray([str(c) for c in frame.columns], dtype=object)
    est.n_features_in_ = frame.shape[1]


def _names_in(est: Any, input_features: Any) -> list[str]:
    return [str(c) for c in (est.feature_names_in_ if input_features is None else input_features)]


def kept_columns(names: Any, keep: Any) -> np.ndarray:
    """True for the output columns of the input columns ``keep``.

    A column's outputs are the column itself and the columns named ``<column>_...`` (its one-hot,
    date-part and TF-IDF columns).

    Examples
    --------
    >>> kept_columns(["age", "city_Paris", "cityscape", "income"], ["city", "age"]).tolist()
    [True, True, False, False]
    """
    keep = [str(k) for k in keep]
    return np.asarray(
        [any(n == k or n.startswith(f"{k}_") for k in keep) for n in map(str, names)], dtype=bool
    )


def sturges_bins(n_rows: int) -> int:
    """Sturges' number of bins for ``n_rows`` values: ``ceil(log2(n)) + 1``.

    Examples
    --------
    >>> sturges_bins(505)
    10
    """
    return math.ceil(math.log2(max(n_rows, 1))) + 1


# --------------------------------------------------------------------------------------------
# Feature selection that respects keep_features
# --------------------------------------------------------------------------------------------


class VarianceFilter(VarianceThreshold):
    """scikit-learn's ``VarianceThreshold`` that never drops the columns of ``keep``.

    Parameters
    ----------
    threshold : float, default 0.0
        Features with a training variance at most this are dropped.
    keep : sequence of str, default ()
        Input columns whose outputs are always kept (see :func:`kept_columns`).

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"a": [1.0, 1.0, 1.0], "b": [1.0, 2.0, 3.0], "c": [0.0, 0.0, 0.0]})
    >>> VarianceFilter(keep=("a",)).fit(X).get_feature_names_out().tolist()
    ['a', 'b']
    """

    def __init__(self, threshold: float = 0.0, *, keep: tuple[str, ...] = ()) -> None:
        super().__init__(threshold=threshold)
        self.keep = keep

    def fit(self, X: Any, y: Any = None) -> VarianceFilter:
        try:
            return super().fit(X, y)
        except ValueError as exc:
            # every column is under the threshold: the kept ones alone stay (the parent sets
            # variances_ and the input names before it raises)
            names = getattr(self, "feature_names_in_", None)
            if "meets the variance threshold" not in str(exc):
                raise
            if names is None or not kept_columns(names, self.keep).any():
                raise ValueError(f"low_variance_threshold: {exc}, and none is kept") from None
            return self

    def _get_support_mask(self) -> np.ndarray:
        mask = super()._get_support_mask()
        names = getattr(self, "feature_names_in_", None)
        if names is None or not self.keep:
            return mask
        return mask | kept_columns(names, self.keep)


# --------------------------------------------------------------------------------------------
# Rare categories
# --------------------------------------------------------------------------------------------


class RareCategories(TransformerMixin, BaseEstimator):
    """Group the categories seen in fewer than ``threshold * n_rows`` training rows.

    Rare categories, and categories never seen in training, become ``value``; missing values
    stay missing.

    Parameters
    ----------
    threshold : float
        Minimum share of training rows a category needs to keep its name.
    value : str, default 'rare'
        The grouped category.

    Examples
    --------
    >>> RareCategories(0.3).fit_transform([["a"], ["a"], ["a"], ["b"]]).ravel().tolist()
    ['a', 'a', 'a', 'rare']
    """

    def __init__(self, threshold: float = 0.05, value: str = "rare") -> None:
        self.threshold = threshold
        self.value = value

    def fit(self, X: Any, y: Any = None) -> RareCategories:
        frame = _frame(X)
        _record_input(self, frame)
        n = len(frame)
        self.categories_ = []
        for c in frame.columns:
            counts = frame[c].value_counts(dropna=True)
            self.categories_.append([v for v, k in counts.items() if k >= self.threshold * n])
        return self

    def transform(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "categories_")
        frame = _frame(X)
        out = np.empty(frame.shape, dtype=object)
        for j, (c, common) in enumerate(zip(frame.columns, self.categories_, strict=True)):
            col = frame[c]
            grouped = col.where(col.isin(common) | col.isna(), self.value)
            out[:, j] = grouped.to_numpy(dtype=object)
        return out

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.asarray(_names_in(self, input_features), dtype=object)


# --------------------------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------------------------


class TextEmbedding(TransformerMixin, BaseEstimator):
    """One vectorizer per text column; each term becomes a dense column ``<column>_<term>``.

    Missing text is the empty string. The dense result is checked against the memory budget
    (``clusterlab.set_config(memory_budget=...)``) before it is built.

    Parameters
    ----------
    method : {'tf-idf', 'bow'} or vectorizer, default 'tf-idf'
        scikit-learn's ``TfidfVectorizer`` or ``CountVectorizer``, or a vectorizer object
        (cloned per column).

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"note": ["red apple", "green apple", "red wine"]})
    >>> TextEmbedding("bow").fit(t).get_feature_names_out().tolist()
    ['note_apple', 'note_green', 'note_red', 'note_wine']
    """

    def __init__(self, method: Any = "tf-idf") -> None:
        self.method = method

    def _vectorizer(self) -> Any:
        from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

        if self.method == "tf-idf":
            return TfidfVectorizer()
        if self.method == "bow":
            return CountVectorizer()
        return clone(self.method)

    def fit(self, X: Any, y: Any = None) -> TextEmbedding:
        frame = _frame(X)
        _record_input(self, frame)
        self.vectorizers_ = []
        for c in frame.columns:
            try:
                self.vectorizers_.append(self._vectorizer().fit(_texts(frame[c])))
            except ValueError as exc:
                if "empty vocabulary" not in str(exc):
                    raise
                raise ValueError(
                    f"text column {str(c)!r} has no words to embed (the vectorizer found an empty "
                    "vocabulary); leave it out of text_features"
                ) from None
        return self

    def transform(self, X: Any) -> np.ndarray:
        from clusterlab._config import check_memory

        check_is_fitted(self, "vectorizers_")
        frame = _frame(X)
        n_terms = sum(len(v.get_feature_names_out()) for v in self.vectorizers_)
        check_memory(
            8.0 * len(frame) * n_terms,
            what=f"the dense text-feature matrix ({len(frame):,} rows x {n_terms:,} terms)",
            alternative="cap the vocabulary, e.g. text_features_method=TfidfVectorizer("
            "max_features=500)",
        )
        blocks = [
            np.asarray(v.transform(_texts(frame[c])).toarray(), dtype=np.float64)
            for c, v in zip(frame.columns, self.vectorizers_, strict=True)
        ]
        return np.hstack(blocks) if blocks else np.empty((len(frame), 0))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self, "vectorizers_")
        names = _names_in(self, input_features)
        return np.asarray(
            [
                f"{c}_{t}"
                for c, v in zip(names, self.vectorizers_, strict=True)
                for t in v.get_feature_names_out()
            ],
            dtype=object,
        )


def _texts(col: pd.Series) -> list[str]:
    return ["" if pd.isna(v) else str(v) for v in col]


# --------------------------------------------------------------------------------------------
# Iterative imputation
# --------------------------------------------------------------------------------------------


def imputation_estimator(name: Any, *, categorical: bool, seed: int | None, n_jobs: int) -> Any:
    """The estimator behind an iterative-imputer id (PyCaret's model ids), or a clone of an object.

    ``'lightgbm'`` is scikit-learn's histogram gradient boosting (LightGBM's algorithm).

    Examples
    --------
    >>> type(imputation_estimator("rf", categorical=True, seed=0, n_jobs=1)).__name__
    'RandomForestClassifier'
    """
    from sklearn import ensemble, linear_model, neighbors, tree

    if not isinstance(name, str):
        return clone(name)
    seeded, threaded = {"random_state": seed}, {"n_jobs": n_jobs}
    if categorical:
        table = {
            "lightgbm": (ensemble.HistGradientBoostingClassifier, seeded),
            "rf": (ensemble.RandomForestClassifier, seeded | threaded),
            "et": (ensemble.ExtraTreesClassifier, seeded | threaded),
            "dt": (tree.DecisionTreeClassifier, seeded),
            "knn": (neighbors.KNeighborsClassifier, threaded),
            "lr": (linear_model.LogisticRegression, {"max_iter": 1000}),
        }
    else:
        table = {
            "lightgbm": (ensemble.HistGradientBoostingRegressor, seeded),
            "rf": (ensemble.RandomForestRegressor, seeded | threaded),
            "et": (ensemble.ExtraTreesRegressor, seeded | threaded),
            "dt": (tree.DecisionTreeRegressor, seeded),
            "knn": (neighbors.KNeighborsRegressor, threaded),
            "lr": (linear_model.LinearRegression, {}),
            "ridge": (linear_model.Ridge, {}),
            "br": (linear_model.BayesianRidge, {}),
        }
    if name not in table:
        kind = "categorical" if categorical else "numeric"
        raise ValueError(f"{kind}_iterative_imputer must be one of {tuple(table)}; got {name!r}")
    cls, kwargs = table[name]
    return cls(**kwargs)


class IterativeImputation(TransformerMixin, BaseEstimator):
    """Fill missing numeric and categorical values by chained equations.

    Missing values are first filled with the column's mean (numeric) or mode (categorical); then,
    ``max_iter`` times, every column with missing training values, fewest first, is predicted
    from all the other columns (categories as codes) by a clone of ``numeric_estimator`` or
    ``categorical_estimator`` fitted on the rows where it is observed. ``transform`` replays the
    same sequence of fitted estimators, so ``transform`` of the training data equals
    ``fit_transform``. Columns other than ``numeric`` and ``categorical`` pass through unchanged;
    a column with no missing training value is filled with its mean or mode in new data.

    Parameters
    ----------
    numeric, categorical : sequence of str
        The columns to impute (and predict from).
    numeric_estimator : regressor
    categorical_estimator : classifier
    max_iter : int, default 5

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sklearn.linear_model import LinearRegression, LogisticRegression
    >>> df = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": [2.0, 4.0, np.nan, 8.0]})
    >>> imp = IterativeImputation(numeric=["x", "y"], numeric_estimator=LinearRegression(),
    ...                           categorical_estimator=LogisticRegression())
    >>> round(float(imp.fit_transform(df)["y"][2]), 6)
    6.0
    """

    def __init__(
        self,
        *,
        numeric: tuple[str, ...] = (),
        categorical: tuple[str, ...] = (),
        numeric_estimator: Any = None,
        categorical_estimator: Any = None,
        max_iter: int = 5,
    ) -> None:
        self.numeric = numeric
        self.categorical = categorical
        self.numeric_estimator = numeric_estimator
        self.categorical_estimator = categorical_estimator
        self.max_iter = max_iter

    def _columns(self) -> list[str]:
        return [*self.numeric, *self.categorical]

    def _encode(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Columns as a float matrix (categories as codes) and where values are missing."""
        cols = self._columns()
        M = np.empty((len(frame), len(cols)), dtype=np.float64)
        missing = frame[cols].isna().to_numpy()
        for j, c in enumerate(cols):
            if c in self.categories_:
                codes = {v: float(i) for i, v in enumerate(self.categories_[c])}
                M[:, j] = frame[c].map(codes).astype("float64").to_numpy()
            else:
                M[:, j] = pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype=np.float64)
        unknown = np.isnan(M) & ~missing  # unseen categories: a predictor value is still needed
        M[missing | unknown] = np.take(self.fill_, np.nonzero(missing | unknown)[1])
        return M, missing

    def fit(self, X: Any, y: Any = None) -> IterativeImputation:
        frame = _frame(X)
        _record_input(self, frame)
        self.categories_ = {c: list(pd.unique(frame[c].dropna())) for c in self.categorical}
        cols = self._columns()
        fill = []
        for c in cols:
            present = frame[c].dropna()
            if c in self.categories_:
                mode = present.mode()
                fill.append(float(self.categories_[c].index(mode.iloc[0])) if len(mode) else 0.0)
            else:
                fill.append(float(pd.to_numeric(present).mean()) if len(present) else 0.0)
        self.fill_ = np.asarray(fill, dtype=np.float64)
        M, missing = self._encode(frame)
        counts = missing.sum(axis=0)
        order = [int(j) for j in np.argsort(counts, kind="stable") if counts[j] > 0]
        self.sequence_ = []
        for _ in range(self.max_iter):
            for j in order:
                self.sequence_.append((j, self._fit_column(M, missing, j)))
        return self

    def _fit_column(self, M: np.ndarray, missing: np.ndarray, j: int) -> Any:
        """Fit column j's estimator on its observed rows and fill its missing rows in M."""
        categorical = self._columns()[j] in self.categories_
        observed = ~missing[:, j]
        target = M[observed, j]
        if len(np.unique(target)) < 2 or M.shape[1] < 2:
            return None  # one value observed (or nothing to predict from): the fill stands
        est = clone(self.categorical_estimator if categorical else self.numeric_estimator)
        others = np.delete(M, j, axis=1)
        est.fit(others[observed], target.astype(np.int64) if categorical else target)
        M[~observed, j] = est.predict(others[~observed])
        return est

    def transform(self, X: Any) -> pd.DataFrame:
        check_is_fitted(self, "sequence_")
        frame = _frame(X)
        M, missing = self._encode(frame)
        for j, est in self.sequence_:
            rows = missing[:, j]
            if est is not None and rows.any():
                M[rows, j] = est.predict(np.delete(M[rows], j, axis=1))
        out = frame.copy()
        for j, c in enumerate(self._columns()):
            rows = missing[:, j]
            if not rows.any():
                continue
            if c in self.categories_:
                categories = np.asarray(self.categories_[c], dtype=object)
                codes = np.clip(np.rint(M[rows, j]), 0, len(categories) - 1).astype(np.int64)
                values = out[c].to_numpy(dtype=object, copy=True)
                values[rows] = categories[codes]
            else:
                values = pd.to_numeric(out[c], errors="coerce").to_numpy(np.float64, copy=True)
                values[rows] = M[rows, j]
            out[c] = values
        return out

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.asarray(_names_in(self, input_features), dtype=object)


# --------------------------------------------------------------------------------------------
# Group statistics
# --------------------------------------------------------------------------------------------


class GroupFeatures(TransformerMixin, BaseEstimator):
    """Add each row's statistics over groups of columns: ``<group>_<min|max|mean|std|median|mode>``.

    Parameters
    ----------
    groups : dict
        ``{group name: [columns]}``.
    drop : bool, default False
        Drop the grouped columns.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"a": [1.0, 4.0], "b": [3.0, 4.0], "c": [5.0, 1.0]})
    >>> out = GroupFeatures({"g": ["a", "b", "c"]}, drop=True).fit_transform(df)
    >>> out["g_median"].tolist(), out["g_mode"].tolist()
    ([3.0, 4.0], [1.0, 4.0])
    """

    STATISTICS = ("min", "max", "mean", "std", "median", "mode")

    def __init__(self, groups: dict[str, list[str]] | None = None, drop: bool = False) -> None:
        self.groups = groups
        self.drop = drop

    def fit(self, X: Any, y: Any = None) -> GroupFeatures:
        frame = _frame(X)
        _record_input(self, frame)
        names = set(self.feature_names_in_)
        for group, cols in (self.groups or {}).items():
            absent = [c for c in cols if c not in names]
            if absent:
                raise ValueError(
                    f"group_features[{group!r}] names columns {absent} that are not prepared "
                    "numeric features (group numeric columns only)"
                )
        return self

    def transform(self, X: Any) -> pd.DataFrame:
        from scipy import stats

        check_is_fitted(self, "n_features_in_")
        frame = _frame(X).rename(columns=str)
        added = {}
        for group, cols in (self.groups or {}).items():
            block = frame[cols].to_numpy(dtype=np.float64)
            values = {
                "min": block.min(axis=1),
                "max": block.max(axis=1),
                "mean": block.mean(axis=1),
                "std": block.std(axis=1, ddof=1),
                "median": np.median(block, axis=1),
                "mode": stats.mode(block, axis=1, keepdims=False).mode,
            }
            for stat in self.STATISTICS:
                added[f"{group}_{stat}"] = values[stat]
        out = frame.drop(columns=self._grouped()) if self.drop else frame
        return pd.concat([out, pd.DataFrame(added, index=frame.index)], axis=1)

    def _grouped(self) -> list[str]:
        return list(dict.fromkeys(c for cols in (self.groups or {}).values() for c in cols))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        names = _names_in(self, input_features)
        if self.drop:
            names = [n for n in names if n not in set(self._grouped())]
        added = [f"{g}_{s}" for g in (self.groups or {}) for s in self.STATISTICS]
        return np.asarray(names + added, dtype=object)
