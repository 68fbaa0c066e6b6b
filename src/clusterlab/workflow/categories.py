"""Setup's raw view of categorical columns, for the models made for categories.

``setup`` one-hot encodes categorical columns for the models of numbers (k-means and the rest).
The models made for categories -- k-modes, k-prototypes, k-medoids with Gower's distance -- read
each categorical column as one column of categories instead. :class:`RawCategories` is that
second preparation of the same data: a pipeline fitted beside setup's own, on the same rows and
feature columns, where

- numeric, ordinal, date and text columns go through the same branches as in setup's pipeline
  (imputation, log1p of skewed columns, transformation, binning) and then, with ``normalize``,
  the same scaler column by column;
- each categorical column is imputed and its rare categories grouped as setup does, then
  replaced by the integer code of its category (``OrdinalEncoder``, codes in sorted order; a
  category first seen after setup gets code -1, which matches no category of a fitted model);
- the steps that mix columns (polynomial features, group features, variance and correlation
  filters, PCA) are left out: they are defined on the one-hot features.

The output is all numbers (float64), so the fitted model, its out-of-sample rule and a model
file read it as they read setup's features; ``categorical_`` gives the positions of the code
columns, which a model's parameters name (KPrototypes' ``categorical``, the
``GowerDistance(categorical=...)`` of KMedoids). :func:`raw_view` gives the experiment's prepared
state under this view; :func:`view_of` the view a fitted estimator reads.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from clusterlab.models import entry_for
from clusterlab.preprocessing import (
    Preprocessor,
    _categorical_imputer,
    _categories_as_text,
    _chain,
    _columns_of,
    _fit_threads,
    _iterative_step,
    _numeric_branches,
    _other_branches,
    _pandas_output,
    _scaler,
)

__all__ = [
    "GOWER_MESSAGE",
    "RawCategories",
    "categorical_features",
    "compares",
    "features_frame",
    "gower_input",
    "has_categories",
    "raw_view",
    "reads_raw",
    "view_for",
    "view_of",
]

#: What compare_models says on data with categorical columns (``n``: setup's sample_size).
GOWER_MESSAGE = (
    "The data has categorical columns: every model's Silhouette is computed with Gower's "
    "distance on the columns as categories (on a {n:,}-row sample above that many rows)"
)

#: Code of a category first seen after setup (it matches no fitted category).
UNSEEN_CODE = -1


def categorical_features(pre: Preprocessor) -> list[str]:
    """The feature columns setup treats as categorical."""
    return _columns_of(pre.schema_, "categorical", list(pre.features_))


class RawCategories:
    """Setup's features with each categorical column as one column of category codes.

    Fitted from a fitted :class:`~clusterlab.preprocessing.Preprocessor` (its schema, feature
    columns and training rows); the attributes mirror the Preprocessor's, so a prepared state
    and a model file use either alike.

    Attributes
    ----------
    base : Preprocessor
        Setup's own (one-hot) preparation.
    pipeline_ : sklearn.pipeline.Pipeline
        The fitted pipeline of this view.
    categorical_ : tuple of int
        Positions of the category-code columns in the output.
    categories_ : dict
        Column -> its categories, in code order (code ``i`` is ``categories_[column][i]``).

    Examples
    --------
    >>> import pandas as pd
    >>> from clusterlab.preprocessing import Preprocessor, SetupOptions
    >>> df = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": ["y", "x", "y", "z"]})
    >>> pre = Preprocessor(SetupOptions.parse(verbose=False)).fit(df)
    >>> raw = RawCategories(pre).fit(df)
    >>> raw.transform(df)["b"].tolist(), raw.categorical_
    ([1.0, 0.0, 1.0, 2.0], (1,))
    """

    def __init__(self, base: Preprocessor) -> None:
        self.base = base

    # the parts of setup's state this view shares
    options = property(lambda self: self.base.options)
    schema_ = property(lambda self: self.base.schema_)
    features_ = property(lambda self: list(self.base.features_))
    train_mask_ = property(lambda self: self.base.train_mask_)
    dropped_ = property(lambda self: self.base.dropped_)

    def fit(self, data: pd.DataFrame) -> RawCategories:
        """Build and fit this view's pipeline on the training rows of ``data``."""
        base, options = self.base, self.base.options
        rows = data.loc[base.train_mask_, base.features_]
        pipeline = build_raw_pipeline(base.schema_, options, rows, base.features_)
        _pandas_output(pipeline)
        with _fit_threads(rows.size, options):
            pipeline.fit(rows)
        self.pipeline_ = pipeline
        names = [str(c) for c in pipeline.get_feature_names_out()]
        categorical = categorical_features(base)
        self.categorical_ = tuple(names.index(c) for c in categorical)
        encoder = pipeline.named_steps["columns"].named_transformers_.get("categories")
        levels = [] if encoder is None else encoder[-1].categories_
        self.categories_ = {c: list(lv) for c, lv in zip(categorical, levels, strict=True)}
        return self

    def transform(self, data: pd.DataFrame) -> pd.DataFrame:
        """This view's features of ``data`` (float64, the rows' index)."""
        missing = [c for c in self.features_ if c not in data.columns]
        if missing:
            raise ValueError(f"data lacks the feature columns {missing} that setup used")
        out = self.pipeline_.transform(data[self.features_])
        out.index = data.index
        out.columns = [str(c) for c in out.columns]
        out = out.astype("float64")
        if not np.isfinite(out.to_numpy()).all():
            raise ValueError(
                "the raw view of the categorical models holds missing values: impute them "
                "(imputation_type='simple' or 'iterative')"
            )
        return out


def build_raw_pipeline(
    schema: pd.DataFrame, options: Any, data: pd.DataFrame, features: list[str]
) -> Any:
    """The unfitted pipeline of :class:`RawCategories` (see the module docstring)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OrdinalEncoder

    from clusterlab.transformers import RareCategories

    categorical = _columns_of(schema, "categorical", features)
    encoder = OrdinalEncoder(
        handle_unknown="use_encoded_value", unknown_value=UNSEEN_CODE, dtype=np.float64
    )
    if not options.pipeline.preprocess:
        branches = [("features", "passthrough", [c for c in features if c not in categorical])]
        categories = _chain(_categories_as_text(), encoder)
    else:
        scaler = options.scaling.normalize_method if options.scaling.normalize else None
        branches = [
            (name, _scaled(step, scaler), columns)
            for name, step, columns in [
                *_numeric_branches(schema, options, data, features),
                *_other_branches(schema, options, features),
            ]
        ]
        rare = options.encoding.rare_to_value
        categories = _chain(
            _categories_as_text(),
            _categorical_imputer(options.imputation),
            RareCategories(rare, options.encoding.rare_value) if rare is not None else None,
            encoder,
        )
    if categorical:
        branches.append(("categories", categories, categorical))
    steps = []
    iterative = options.imputation.imputation_type == "iterative"
    if options.pipeline.preprocess and iterative:
        steps.append(("iterative_imputer", _iterative_step(schema, options, data, features)))
    columns = ColumnTransformer(branches, remainder="drop", verbose_feature_names_out=False)
    steps.append(("columns", columns))
    return Pipeline(steps)


def _scaled(step: Any, scaler: str | None) -> Any:
    """A branch followed by setup's scaler (every scaler of setup works column by column)."""
    if scaler is None:
        return step
    if isinstance(step, str):  # 'passthrough'
        return _chain(_scaler(scaler))
    return _chain(step, _scaler(scaler))


def raw_view(prepared: Any) -> Any:
    """``prepared`` (a :class:`~clusterlab.workflow.prepared.Prepared`) under the raw view:
    the same data, options, training rows and ground truth, with :class:`RawCategories`'
    features."""
    if isinstance(prepared.preprocessor, RawCategories):
        return prepared
    raw = RawCategories(prepared.preprocessor).fit(prepared.data)
    X_all = raw.transform(prepared.data)
    X = X_all.loc[raw.train_mask_]
    return dataclasses.replace(prepared, preprocessor=raw, X_all=X_all, X=X)


def base_of(prepared: Any) -> Any:
    """Setup's own (one-hot) state of ``prepared``, whichever view it is."""
    pre = prepared.preprocessor
    if not isinstance(pre, RawCategories):
        return prepared
    return dataclasses.replace(
        prepared, preprocessor=pre.base, X_all=pre.base.transform(prepared.data)
    )


def has_categories(prepared: Any) -> bool:
    """Whether setup treats any feature column as categorical."""
    return bool(categorical_features(prepared.preprocessor))


def view_for(entry: Any, params: dict[str, Any], prepared: Any) -> tuple[Any, dict[str, Any]]:
    """The state a registry id with the given ``params`` reads, and the parameters to set for
    it (the positions of the category-code columns, Gower's distance; see
    :class:`~clusterlab.models.entry.CategoryInput`)."""
    spec = entry.categories if entry is not None else None
    if spec is None or not spec.reads_raw(params, has_categories(prepared)):
        return prepared, {}
    view = prepared.raw
    return view, spec.params(params, view.categorical)


def compares(entry: Any, prepared: Any) -> bool:
    """Whether compare_models runs ``entry`` on this data (None: data unknown, no model of
    categories) when not told which."""
    if entry.categories is None:
        return entry.in_compare
    if prepared is None:
        return False
    pre = prepared.preprocessor
    return entry.categories.in_compare(len(categorical_features(pre)), len(pre.features_))


def gower_input(prepared: Any) -> tuple[np.ndarray, tuple[int, ...]] | None:
    """What the Gower silhouette of every model reads on data with categorical columns: the
    raw view's training rows and the positions of their category codes; None without
    categorical columns."""
    if not has_categories(prepared):
        return None
    raw = prepared.raw
    return raw.X.to_numpy(), raw.categorical


def features_frame(prepared: Any) -> pd.DataFrame:
    """The training rows' feature columns in the user's units, with the columns setup treats as
    categorical (``categorical_features=`` numbers such as region codes among them) as pandas
    categories, so that profiles, rules and the report show their segment contents as shares
    of categories instead of means."""
    frame = prepared.train_data[prepared.features]
    kinds = categorical_features(prepared.preprocessor)
    as_numbers = [c for c in kinds if pd.api.types.is_numeric_dtype(frame[c])]
    if not as_numbers:
        return frame
    return frame.astype(dict.fromkeys(as_numbers, "category"))


def reads_raw(estimator: Any) -> bool:
    """Whether a fitted (or built) estimator reads the raw view: its registry entry says so
    for its parameters (k-modes, k-prototypes; k-medoids with Gower's distance)."""
    entry = entry_for(estimator)
    if entry is None or entry.categories is None:
        return False
    return entry.categories.reads_raw(estimator.get_params(deep=False))


def view_of(prepared: Any, estimator: Any) -> Any:
    """The prepared state ``estimator`` reads: the raw view or setup's own."""
    return prepared.raw if reads_raw(estimator) else prepared
