"""Setup options -> one scikit-learn pipeline, fitted once and reused.

:class:`Preprocessor` infers each column's kind, then turns the options of ``setup`` (grouped by
:class:`~clusterlab.setup_options.SetupOptions`) into a single
:class:`sklearn.pipeline.Pipeline`, fitted once. Its steps, in order (each only when its option
asks for it):

1. ``iterative_imputer`` -- :class:`~clusterlab.transformers.IterativeImputation`
   (``imputation_type='iterative'``);
2. ``columns`` -- a :class:`sklearn.compose.ColumnTransformer` with one branch per column kind:
   numeric (imputer, transformation), skewed numeric (log1p), binned numeric
   (``KBinsDiscretizer``), one-hot / ordinal / frequency / custom encoded categories (imputer, rare
   categories grouped), ordinal columns, dates (:class:`DateFeatures`) and text
   (:class:`~clusterlab.transformers.TextEmbedding`, TF-IDF);
3. ``polynomial`` -- ``PolynomialFeatures`` of the numeric columns;
4. ``group_features`` -- :class:`~clusterlab.transformers.GroupFeatures`;
5. ``low_variance`` -- ``VarianceThreshold`` (or
   :class:`~clusterlab.transformers.VarianceFilter` when ``keep_features`` must survive it);
6. ``multicollinearity`` -- :class:`CorrelationFilter`;
7. ``normalize`` -- a scaler;
8. ``pca`` -- ``PCA``, ``KernelPCA`` or ``IncrementalPCA``;

with the ``custom_pipeline`` steps inserted at ``custom_pipeline_position``. With
``preprocess=False`` the pipeline is only ``columns`` (the feature columns passed through as
they are) and the custom steps. ``memory`` is scikit-learn's cache of fitted transformers.

Every step is scikit-learn's own or a small transformer scikit-learn lacks (this module's
:class:`DateFeatures`, :class:`FrequencyEncoder`, :class:`CorrelationFilter` and those of
:mod:`clusterlab.transformers`). Rows are never removed inside the pipeline (a scikit-learn
transformer cannot drop rows): rows with missing values (``numeric_imputation='drop'``) and
outliers (``remove_outliers``) are left out of *training* through
:attr:`Preprocessor.train_mask_`, and the pipeline can still transform them so that they can be
labelled by ``predict``.

Column kinds are inferred by :func:`infer_schema` with these rules, in order:

1. an explicit override (``ignore_features``, ``ground_truth``, ``numeric_features``,
   ``categorical_features``, ``ordinal_features``, ``date_features``, ``text_features``);
2. an all-missing column is an error (name it in ``ignore_features``);
3. datetime dtype -> ``date``; bool -> ``categorical``;
4. numeric dtype -> ``numeric``, except an integer column with one distinct value per row whose
   name looks like an id (``id``, ``*_id``, ``*id``, ``index``, ``key``) or that counts up by one
   -> ``id`` (not a feature);
5. text dtype: at least 90 % of a sample parses as dates (and contains ``-``, ``/`` or ``:``)
   -> ``date``; one distinct value per row -> ``id`` (short values) or ``text`` (three words or
   more); values of five words or more on average -> ``text``; anything else -> ``categorical``;
6. a column in ``keep_features`` inferred as ``id`` or ``constant`` becomes ``numeric`` (numeric
   dtype) or ``categorical``.

``id``, ``constant`` and ignored columns are never features, nor is free text that is not named
in ``text_features`` or ``keep_features``; the ground-truth column is kept aside for external
metrics only.
"""

from __future__ import annotations

import difflib
import logging
import numbers
import os
import re
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from clusterlab.setup_options import (
    DATE_PARTS,
    ColumnOptions,
    CompatOptions,
    DataOptions,
    EncodingOptions,
    EngineeringOptions,
    ImputationOptions,
    OutlierOptions,
    PipelineOptions,
    ReductionOptions,
    RuntimeOptions,
    ScalingOptions,
    SetupOptions,
)
from clusterlab.transformers import kept_columns

__all__ = [
    "ColumnOptions",
    "CompatOptions",
    "CorrelationFilter",
    "DataOptions",
    "DateFeatures",
    "EncodingOptions",
    "EngineeringOptions",
    "FrequencyEncoder",
    "ImputationOptions",
    "OutlierOptions",
    "PipelineOptions",
    "Preprocessor",
    "ReductionOptions",
    "RuntimeOptions",
    "ScalingOptions",
    "SetupOptions",
    "as_frame",
    "build_pipeline",
    "infer_schema",
    "prepare_data",
]

logger = logging.getLogger(__name__)

#: Kinds that become features (``text`` too, when named in text_features or keep_features).
FEATURE_KINDS = ("numeric", "categorical", "ordinal", "date")
_ID_NAME = re.compile(r"(^|_|\b)(id|index|key|uuid)$|id$", re.IGNORECASE)
_DATE_CHARS = re.compile(r"[-/:]")
#: The category ``categorical_imputation='constant'`` fills in (PyCaret's).
MISSING_CATEGORY = "not_available"


# --------------------------------------------------------------------------------------------
# Schema inference
# --------------------------------------------------------------------------------------------


def _word_count(values: pd.Series) -> float:
    return float(values.astype(str).str.split().str.len().mean())


def _looks_like_dates(values: pd.Series) -> bool:
    text = values.astype(str)
    if not text.str.contains(_DATE_CHARS).mean() >= 0.9:
        return False
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = pd.to_datetime(text, errors="coerce", format="mixed")
    return bool(parsed.notna().mean() >= 0.9)


def _infer_one(name: str, col: pd.Series) -> tuple[str, str]:  # noqa: PLR0911 - one rule each
    """Return (kind, reason) for one column without overrides."""
    present = col.dropna()
    n = len(col)
    if len(present) == 0:
        raise ValueError(
            f"column {name!r} has only missing values; drop it or name it in ignore_features"
        )
    n_unique = present.nunique()
    if pd.api.types.is_datetime64_any_dtype(col):
        return "date", "datetime dtype"
    if pd.api.types.is_bool_dtype(col):
        return "categorical", "bool dtype"
    if n_unique == 1:
        return "constant", "a single value"
    if pd.api.types.is_numeric_dtype(col):
        if pd.api.types.is_integer_dtype(col) and n_unique == n and n >= 20:
            steps = np.diff(np.sort(present.to_numpy()))
            if _ID_NAME.search(name) or np.all(steps == 1):
                return "id", "distinct integer per row"
        return "numeric", "numeric dtype"
    sample = present.sample(min(len(present), 1000), random_state=0) if len(present) else present
    if isinstance(col.dtype, pd.CategoricalDtype):
        return "categorical", "category dtype"
    if _looks_like_dates(sample):
        return "date", "parses as dates"
    words = _word_count(sample)
    if n_unique == len(present) and len(present) >= 20:
        return ("text", "free text") if words >= 3 else ("id", "distinct value per row")
    if words >= 5:
        return "text", "free text"
    return "categorical", f"{n_unique} categories"


def _check_names(kind: str, cols: list[str], names: list[str]) -> None:
    for col in cols:
        if col not in names:
            close = difflib.get_close_matches(col, names, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ValueError(
                f"column {col!r} (given as {kind}) is not in the data{hint} (columns: {names[:20]})"
            )


def _kept_kind(col: pd.Series, kind: str) -> str:
    """The feature kind of a ``keep_features`` column that inference would leave out."""
    if kind not in ("id", "constant"):
        return kind
    if pd.api.types.is_datetime64_any_dtype(col):
        return "date"
    if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
        return "numeric"
    return "categorical"


def infer_schema(data: pd.DataFrame, columns: ColumnOptions) -> pd.DataFrame:
    """Infer each column's kind (see the module docstring for the rules).

    Returns
    -------
    pandas.DataFrame
        Indexed by column name, with ``kind`` (numeric, categorical, ordinal, date, text, id,
        constant, ignored, ground_truth), ``reason``, ``dtype`` and ``missing`` (count).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": ["x", "y", "x"]})
    >>> infer_schema(df, ColumnOptions())["kind"].tolist()
    ['numeric', 'categorical']
    """
    names = [str(c) for c in data.columns]
    overrides: dict[str, str] = {}
    for kind, cols in (
        ("ignored", columns.ignore_features),
        ("numeric", columns.numeric_features),
        ("categorical", columns.categorical_features),
        ("ordinal", list(columns.ordinal_features)),
        ("date", columns.date_features),
        ("text", columns.text_features),
        ("ground_truth", [columns.ground_truth] if columns.ground_truth is not None else []),
    ):
        _check_names(kind, cols, names)
        for col in cols:
            if col in overrides and kind != "ignored":
                raise ValueError(f"column {col!r} is given as both {overrides[col]} and {kind}")
            overrides.setdefault(col, kind)
    _check_names("keep_features", columns.keep_features, names)
    if columns.ground_truth in columns.keep_features:
        raise ValueError(
            f"column {columns.ground_truth!r} is the ground truth and cannot be in keep_features "
            "(ground truth is never a feature)"
        )
    rows = []
    for name in names:
        col = data[name]
        if name in overrides:
            kind, reason = overrides[name], "set by the user"
            if kind in (*FEATURE_KINDS, "text") and col.isna().all():
                raise ValueError(f"column {name!r} has only missing values")
        else:
            kind, reason = _infer_one(name, col)
            if name in columns.keep_features and kind in ("id", "constant"):
                kind, reason = _kept_kind(col, kind), f"keep_features (inferred: {kind})"
        rows.append((name, kind, reason, str(col.dtype), int(col.isna().sum())))
    schema = pd.DataFrame(rows, columns=["column", "kind", "reason", "dtype", "missing"])
    return schema.set_index("column")


def feature_columns(schema: pd.DataFrame, columns: ColumnOptions) -> list[str]:
    """The columns that become features, in the data's order.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"a": [1.0, 2.0, 3.0], "note": ["one two three"] * 3})
    >>> opts = ColumnOptions(text_features=["note"])
    >>> feature_columns(infer_schema(df, opts), opts)
    ['a', 'note']
    """
    text = set(columns.text_features) | set(columns.keep_features)
    return [
        c
        for c, kind in schema["kind"].items()
        if kind in FEATURE_KINDS or (kind == "text" and c in text)
    ]


# --------------------------------------------------------------------------------------------
# The three transformers of this module (their names are in saved model files' allowlist)
# --------------------------------------------------------------------------------------------


class DateFeatures(TransformerMixin, BaseEstimator):
    """Turn date columns into numeric parts (any of ``DATE_PARTS``: year, month, day, weekday...).

    Missing or unparseable dates become NaN (impute them afterwards).

    Examples
    --------
    >>> import pandas as pd
    >>> DateFeatures(parts=("year", "month")).fit_transform(
    ...     pd.DataFrame({"d": ["2024-03-01"]})).tolist()
    [[2024.0, 3.0]]
    """

    PARTS = DATE_PARTS

    def __init__(self, parts: tuple[str, ...] = ("year", "month", "day", "weekday")) -> None:
        self.parts = parts

    def fit(self, X: Any, y: Any = None) -> DateFeatures:
        frame = pd.DataFrame(X)
        self.feature_names_in_ = np.asarray([str(c) for c in frame.columns], dtype=object)
        self.n_features_in_ = frame.shape[1]
        return self

    def transform(self, X: Any) -> np.ndarray:
        import warnings

        check_is_fitted(self)
        frame = pd.DataFrame(X)
        out = []
        for c in frame.columns:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                d = pd.to_datetime(frame[c], errors="coerce", format="mixed")
            for part in self.parts:
                attr = "day_of_week" if part in ("weekday", "dayofweek") else part
                out.append(getattr(d.dt, attr).astype("float64").to_numpy())
        return np.column_stack(out) if out else np.empty((len(frame), 0))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        names = self.feature_names_in_ if input_features is None else input_features
        return np.asarray([f"{c}_{p}" for c in names for p in self.parts], dtype=object)


class FrequencyEncoder(TransformerMixin, BaseEstimator):
    """Replace each category by its share of the training rows (unseen categories -> 0).

    Examples
    --------
    >>> FrequencyEncoder().fit_transform([["a"], ["a"], ["b"], ["a"]]).ravel().tolist()
    [0.75, 0.75, 0.25, 0.75]
    """

    def fit(self, X: Any, y: Any = None) -> FrequencyEncoder:
        frame = pd.DataFrame(X)
        self.feature_names_in_ = np.asarray([str(c) for c in frame.columns], dtype=object)
        self.n_features_in_ = frame.shape[1]
        self.frequencies_ = [
            frame[c].astype(str).value_counts(normalize=True).to_dict() for c in frame.columns
        ]
        return self

    def transform(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        frame = pd.DataFrame(X)
        cols = [
            frame[c].astype(str).map(freq).fillna(0.0).astype("float64").to_numpy()
            for c, freq in zip(frame.columns, self.frequencies_, strict=True)
        ]
        return np.column_stack(cols) if cols else np.empty((len(frame), 0))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        names = self.feature_names_in_ if input_features is None else input_features
        return np.asarray(list(names), dtype=object)


class CorrelationFilter(TransformerMixin, BaseEstimator):
    """Drop the later column of every pair whose absolute Pearson correlation exceeds ``threshold``.

    The columns of ``keep`` (input columns whose outputs are always kept, see
    :func:`clusterlab.transformers.kept_columns`) are never dropped: they come first, and a
    column too close to one of them is dropped instead.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 2.0, 0.0], [2.0, 4.1, 1.0], [3.0, 6.0, 0.0]])
    >>> CorrelationFilter(threshold=0.9).fit(X).keep_.tolist()
    [True, False, True]
    """

    def __init__(self, threshold: float = 0.9, *, keep: tuple[str, ...] = ()) -> None:
        self.threshold = threshold
        self.keep = keep

    def fit(self, X: Any, y: Any = None) -> CorrelationFilter:
        names = getattr(X, "columns", None)
        A = np.asarray(X, dtype=float)
        self.n_features_in_ = A.shape[1]
        if names is not None:
            self.feature_names_in_ = np.asarray([str(c) for c in names], dtype=object)
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = np.abs(np.corrcoef(A, rowvar=False)) if A.shape[1] > 1 else np.zeros((1, 1))
        corr = np.nan_to_num(np.atleast_2d(corr))
        forced = (
            kept_columns(self.feature_names_in_, self.keep)
            if self.keep and names is not None
            else np.zeros(A.shape[1], dtype=bool)
        )
        # forced columns first, then the others in order; a retained column removes every
        # column after it in this order that it is too close to, unless that one is forced
        order = np.concatenate([np.flatnonzero(forced), np.flatnonzero(~forced)])
        keep = np.ones(A.shape[1], dtype=bool)
        for pos, j in enumerate(order):
            if keep[j]:
                later = order[pos + 1 :]
                keep[later[(corr[j, later] > self.threshold) & ~forced[later]]] = False
        self.keep_ = keep
        return self

    def transform(self, X: Any) -> Any:
        check_is_fitted(self)
        if hasattr(X, "iloc"):
            return X.iloc[:, self.keep_]
        return np.asarray(X)[:, self.keep_]

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        names = getattr(self, "feature_names_in_", None) if input_features is None else None
        if names is None:
            names = (
                input_features
                if input_features is not None
                else [f"x{i}" for i in range(self.n_features_in_)]
            )
        return np.asarray(names, dtype=object)[self.keep_]


# --------------------------------------------------------------------------------------------
# The pipeline
# --------------------------------------------------------------------------------------------


def _numeric_imputer(options: ImputationOptions) -> Any:
    """The per-column imputer of numeric branches; None when imputation is not 'simple'."""
    from sklearn.impute import KNNImputer, SimpleImputer

    if options.imputation_type != "simple":
        return None
    method = options.numeric_imputation
    if method == "knn":
        return KNNImputer()
    if isinstance(method, numbers.Real):
        return SimpleImputer(strategy="constant", fill_value=float(method))
    strategy = {
        "mean": "mean",
        "median": "median",
        "mode": "most_frequent",
        "zero": "constant",
        "constant": "constant",
        # rows with missing values are left out of training; predict still needs a value
        "drop": "median",
    }[method]
    return SimpleImputer(strategy=strategy, fill_value=0.0 if strategy == "constant" else None)


def _categorical_imputer(options: ImputationOptions) -> Any:
    from sklearn.impute import SimpleImputer

    if options.imputation_type != "simple":
        return None
    if options.categorical_imputation == "constant":
        return SimpleImputer(strategy="constant", fill_value=MISSING_CATEGORY)
    return SimpleImputer(strategy="most_frequent")


def _transformer(options: ScalingOptions, n_rows: int) -> Any:
    from sklearn.preprocessing import PowerTransformer, QuantileTransformer

    if options.transformation_method == "quantile":
        return QuantileTransformer(
            n_quantiles=max(2, min(1000, n_rows)), output_distribution="normal", random_state=0
        )
    return PowerTransformer(method="yeo-johnson", standardize=False)


def _scaler(method: str) -> Any:
    from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler, RobustScaler, StandardScaler

    return {
        "zscore": StandardScaler,
        "minmax": MinMaxScaler,
        "maxabs": MaxAbsScaler,
        "robust": RobustScaler,
    }[method]()


def _skewed(data: pd.DataFrame, cols: list[str], threshold: float) -> list[str]:
    """Numeric columns that are non-negative and right-skewed beyond ``threshold``."""
    out = []
    for c in cols:
        v = pd.to_numeric(data[c], errors="coerce").dropna()
        if len(v) > 2 and v.min() >= 0 and v.skew() > threshold:
            out.append(c)
    return out


def _to_object(X: Any, as_text: bool = False) -> Any:
    """Categorical input as objects, missing values as NaN; with ``as_text``, values as str.

    scikit-learn's imputers and encoders want one type: a column of integer categories that is
    filled with ``'not_available'`` or grouped into ``'rare'`` must become text first. (Pipelines
    saved before ``as_text`` existed call this without it, and keep their behaviour.)
    """
    frame = pd.DataFrame(X).astype(object)
    if as_text:
        frame = frame.map(lambda v: v if isinstance(v, str) or pd.isna(v) else str(v))
    return frame.where(frame.notna(), np.nan)


def _to_ordinal_input() -> Any:
    """Ordinal columns keep their values' own types: the user's category order names them."""
    from sklearn.preprocessing import FunctionTransformer

    return FunctionTransformer(_to_object, feature_names_out="one-to-one")


def _categories_as_text() -> Any:
    from sklearn.preprocessing import FunctionTransformer

    return FunctionTransformer(
        _to_object, kw_args={"as_text": True}, feature_names_out="one-to-one"
    )


def _default(value: Any, default: str) -> Any:
    """PyCaret's None for an option whose default is ``default``."""
    return default if value is None else value


def _chain(*steps: Any) -> Any:
    from sklearn.pipeline import make_pipeline

    present = [s for s in steps if s is not None]
    return make_pipeline(*present) if present else "passthrough"


def _columns_of(schema: pd.DataFrame, kind: str, features: list[str]) -> list[str]:
    return [c for c in features if schema.loc[c, "kind"] == kind]


def _numeric_branches(
    schema: pd.DataFrame, options: SetupOptions, data: pd.DataFrame, features: list[str]
) -> list[tuple[str, Any, list[str]]]:
    """Plain, log1p and binned numeric branches."""
    from sklearn.preprocessing import FunctionTransformer, KBinsDiscretizer

    from clusterlab.transformers import sturges_bins

    scaling, imputing = options.scaling, options.imputation
    numeric = _columns_of(schema, "numeric", features)
    binned = [c for c in numeric if c in options.engineering.bin_numeric_features]
    rest = [c for c in numeric if c not in binned]
    skewed = _skewed(data, rest, scaling.skew_threshold) if scaling.log_transform else []
    plain = [c for c in rest if c not in skewed]

    def branch(log: bool) -> Any:
        return _chain(
            _numeric_imputer(imputing),
            FunctionTransformer(np.log1p, feature_names_out="one-to-one") if log else None,
            _transformer(scaling, len(data)) if scaling.transformation else None,
        )

    out = []
    if plain:
        out.append(("numeric", branch(False), plain))
    if skewed:
        out.append(("numeric_log1p", branch(True), skewed))
    if binned:
        n_bins = [max(2, min(sturges_bins(len(data)), int(data[c].nunique()))) for c in binned]
        bins = KBinsDiscretizer(n_bins=n_bins, encode="ordinal", strategy="kmeans")
        out.append(("binned", _chain(_numeric_imputer(imputing), bins), binned))
    return out


def _n_categories(col: pd.Series, rare_to_value: float | None) -> int:
    """Categories a column has after rare ones are grouped."""
    shares = col.value_counts(normalize=True, dropna=True)
    if rare_to_value is None:
        return len(shares)
    common = int((shares >= rare_to_value).sum())
    return common + int(common < len(shares))


def _categorical_branches(
    schema: pd.DataFrame, options: SetupOptions, data: pd.DataFrame, features: list[str]
) -> list[tuple[str, Any, list[str]]]:
    """One-hot, ordinal-encoded, frequency-encoded and custom-encoded categorical branches."""
    from sklearn.base import clone
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder

    from clusterlab.transformers import RareCategories

    categorical = _columns_of(schema, "categorical", features)
    if not categorical:
        return []
    encoding = options.encoding
    limit = encoding.max_encoding_ohe
    few = [
        c
        for c in categorical
        if limit < 0 or _n_categories(data[c], encoding.rare_to_value) <= limit
    ]
    many = [c for c in categorical if c not in few]
    method = encoding.method
    if isinstance(method, str) and method == "frequency":
        few, many = [], few + many

    def branch(encoder: Any) -> Any:
        rare = encoding.rare_to_value
        return _chain(
            _categories_as_text(),
            _categorical_imputer(options.imputation),
            RareCategories(rare, encoding.rare_value) if rare is not None else None,
            encoder,
        )

    onehot = OneHotEncoder(handle_unknown="ignore", sparse_output=False, dtype=np.float64)
    out = []
    if few and isinstance(method, str) and method == "ordinal":
        enc = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)
        out.append(("ordinal_encoded", branch(enc), few))
    elif few:  # 'onehot', or an encoder object for the many-category columns
        out.append(("onehot", branch(onehot), few))
    if many and not isinstance(method, str):
        out.append(("encoded", branch(clone(method)), many))
    elif many:
        out.append(("frequency", branch(FrequencyEncoder()), many))
    return out


def _other_branches(
    schema: pd.DataFrame, options: SetupOptions, features: list[str]
) -> list[tuple[str, Any, list[str]]]:
    """Ordinal, date and text branches."""
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import OrdinalEncoder

    from clusterlab.transformers import TextEmbedding

    out = []
    for c in _columns_of(schema, "ordinal", features):
        order = list(options.columns.ordinal_features[c])
        enc = OrdinalEncoder(
            categories=[order], handle_unknown="use_encoded_value", unknown_value=-1
        )
        out.append(
            (
                f"ordinal_{c}",
                _chain(_to_ordinal_input(), _categorical_imputer(options.imputation), enc),
                [c],
            )
        )
    dates = _columns_of(schema, "date", features)
    if dates:
        parts = DateFeatures(parts=options.encoding.create_date_columns)
        out.append(("date", _chain(parts, SimpleImputer(strategy="median")), dates))
    text = _columns_of(schema, "text", features)
    if text:
        method = _default(options.encoding.text_features_method, "tf-idf")
        out.append(("text", TextEmbedding(method), text))
    return out


def _column_step(
    schema: pd.DataFrame, options: SetupOptions, data: pd.DataFrame, features: list[str]
) -> Any:
    from sklearn.compose import ColumnTransformer

    if not options.pipeline.preprocess:
        branches = [("features", "passthrough", features)]
    else:
        branches = [
            *_numeric_branches(schema, options, data, features),
            *_categorical_branches(schema, options, data, features),
            *_other_branches(schema, options, features),
        ]
    return ColumnTransformer(branches, remainder="drop", verbose_feature_names_out=False)


def _feature_steps(schema: pd.DataFrame, options: SetupOptions, features: list[str]) -> list:
    """The steps after ``columns``: new features, selection, scaling and projection."""
    from sklearn.compose import ColumnTransformer
    from sklearn.feature_selection import VarianceThreshold
    from sklearn.preprocessing import PolynomialFeatures

    from clusterlab.transformers import GroupFeatures, VarianceFilter

    eng, red, keep = options.engineering, options.reduction, tuple(options.columns.keep_features)
    numeric = [
        c for c in _columns_of(schema, "numeric", features) if c not in eng.bin_numeric_features
    ]
    steps: list[tuple[str, Any]] = []
    if eng.polynomial_features and numeric:
        poly = PolynomialFeatures(eng.polynomial_degree, include_bias=False)
        steps.append(
            (
                "polynomial",
                ColumnTransformer(
                    [("polynomial", poly, numeric)],
                    remainder="passthrough",
                    verbose_feature_names_out=False,
                ),
            )
        )
    if eng.group_features:
        steps.append(("group_features", GroupFeatures(eng.group_features, eng.drop_groups)))
    if red.low_variance_threshold is not None:
        t = red.low_variance_threshold
        steps.append(
            ("low_variance", VarianceFilter(t, keep=keep) if keep else VarianceThreshold(t))
        )
    if red.remove_multicollinearity:
        steps.append(
            ("multicollinearity", CorrelationFilter(red.multicollinearity_threshold, keep=keep))
        )
    if options.scaling.normalize:
        steps.append(("normalize", _scaler(options.scaling.normalize_method)))
    if red.pca:
        steps.append(("pca", _pca(red, options.session_id)))
    return steps


def _iterative_step(
    schema: pd.DataFrame, options: SetupOptions, data: pd.DataFrame, features: list[str]
) -> Any:
    from clusterlab.transformers import IterativeImputation, imputation_estimator

    imp, seed = options.imputation, options.session_id
    n_jobs = _jobs(len(data) * len(features), options)
    numeric = _columns_of(schema, "numeric", features)
    categorical = [c for c in features if schema.loc[c, "kind"] in ("categorical", "ordinal")]
    return IterativeImputation(
        numeric=tuple(numeric),
        categorical=tuple(categorical),
        numeric_estimator=imputation_estimator(
            _default(imp.numeric_iterative_imputer, "lightgbm"),
            categorical=False,
            seed=seed,
            n_jobs=n_jobs,
        ),
        categorical_estimator=imputation_estimator(
            _default(imp.categorical_iterative_imputer, "lightgbm"),
            categorical=True,
            seed=seed,
            n_jobs=n_jobs,
        ),
        max_iter=imp.iterative_imputation_iters,
    )


def _with_custom(steps: list[tuple[str, Any]], options: PipelineOptions) -> list[tuple[str, Any]]:
    """Insert clones of the custom steps at ``custom_pipeline_position``."""
    from sklearn.base import clone

    if not options.custom_pipeline:
        return steps
    names = [name for name, _ in steps]
    clash = [name for name, _ in options.custom_pipeline if name in names]
    if clash:
        raise ValueError(
            f"custom_pipeline step names {clash} are taken by setup's own steps {names}; "
            "rename the custom steps"
        )
    n, position = len(steps), options.custom_pipeline_position
    at = position if position >= 0 else n + 1 + position
    if not 0 <= at <= n:
        raise ValueError(
            f"custom_pipeline_position must be in [{-(n + 1)}, {n}] for setup's {n} steps "
            f"{names}; got {position}"
        )
    custom = [(name, clone(step)) for name, step in options.custom_pipeline]
    return [*steps[:at], *custom, *steps[at:]]


def build_pipeline(
    schema: pd.DataFrame,
    options: SetupOptions,
    data: pd.DataFrame,
    features: list[str] | None = None,
) -> Any:
    """Build the unfitted preprocessing pipeline (see the module docstring for its steps).

    ``data`` (the training rows) decides data-dependent choices: skewed columns, the number of
    categories and of bins.
    """
    from sklearn.pipeline import Pipeline

    if features is None:
        features = feature_columns(schema, options.columns)
    steps: list[tuple[str, Any]] = []
    iterative = options.imputation.imputation_type == "iterative"
    if options.pipeline.preprocess and iterative:
        steps.append(("iterative_imputer", _iterative_step(schema, options, data, features)))
    steps.append(("columns", _column_step(schema, options, data, features)))
    if options.pipeline.preprocess:
        steps += _feature_steps(schema, options, features)
    return Pipeline(_with_custom(steps, options.pipeline), memory=options.pipeline.cache)


def _pandas_output(pipeline: Any) -> None:
    """Ask every step that can for pandas output (a custom step that cannot keeps its own)."""
    for name, step in pipeline.steps:
        if not hasattr(step, "set_output"):
            continue
        try:
            step.set_output(transform="pandas")
        except ValueError as exc:  # a transformer inside does not support set_output
            raise TypeError(
                f"pipeline step {name!r}: {exc} (an encoding_method or text_features_method "
                "object must support scikit-learn's set_output)"
            ) from None


def _pca(options: ReductionOptions, seed: int | None) -> Any:
    from sklearn.decomposition import PCA, IncrementalPCA, KernelPCA

    n = options.pca_components
    if options.pca_method == "kernel":
        return KernelPCA(n_components=n, kernel="rbf", random_state=seed)
    if options.pca_method == "incremental":
        return IncrementalPCA(n_components=n)
    return PCA(n_components=n, random_state=seed)


def _outlier_mask(
    X: np.ndarray, options: OutlierOptions, sample_size: int, seed: int | None, n_jobs: int = 1
) -> np.ndarray:
    """True for the rows the outlier detector keeps (fitted on at most ``sample_size`` rows)."""
    from sklearn.covariance import EllipticEnvelope
    from sklearn.ensemble import IsolationForest
    from sklearn.neighbors import LocalOutlierFactor

    rng = np.random.default_rng(seed)
    n = X.shape[0]
    fit_rows = (
        np.sort(rng.choice(n, sample_size, replace=False)) if n > sample_size else slice(None)
    )
    t = options.outliers_threshold
    if options.outliers_method in ("iforest", "ee"):
        det = (
            IsolationForest(contamination=t, random_state=seed, n_jobs=n_jobs)
            if options.outliers_method == "iforest"
            else EllipticEnvelope(contamination=t, random_state=seed)
        )
        det.fit(X[fit_rows])
        return det.predict(X) == 1
    if n <= sample_size:
        return LocalOutlierFactor(contamination=t, n_jobs=n_jobs).fit_predict(X) == 1
    lof = LocalOutlierFactor(contamination=t, novelty=True, n_jobs=n_jobs)
    lof.fit(X[fit_rows])
    return lof.predict(X) == 1


# --------------------------------------------------------------------------------------------
# The data setup works on
# --------------------------------------------------------------------------------------------


def as_frame(data: Any) -> pd.DataFrame:
    """Accept a DataFrame, a 2-D array or a file path; return a frame with str column names."""
    if isinstance(data, str) or hasattr(data, "__fspath__"):
        data = _read_path(str(data))
    if isinstance(data, pd.Series):
        data = data.to_frame()
    if not isinstance(data, pd.DataFrame):
        arr = np.asarray(data)
        if arr.ndim != 2:
            raise ValueError(
                f"data must be a DataFrame, a 2-D array or a file path; got {arr.ndim}-D input"
            )
        data = pd.DataFrame(arr, columns=[f"x{i}" for i in range(arr.shape[1])])
    if data.shape[0] == 0 or data.shape[1] == 0:
        raise ValueError(f"data must have at least one row and one column; got shape {data.shape}")
    if not all(isinstance(c, str) for c in data.columns):
        data = data.rename(columns=str)
    if data.columns.duplicated().any():
        dup = data.columns[data.columns.duplicated()].tolist()
        raise ValueError(f"data has duplicate column names: {dup}")
    return data


def _read_path(path: str) -> pd.DataFrame:
    if not os.path.exists(path):
        raise FileNotFoundError(f"data file {path!r} does not exist")
    try:  # the io module, when present, knows every format
        from clusterlab.io import read_table  # type: ignore[attr-defined]
    except ImportError:
        read_table = None
    if read_table is not None:
        return read_table(path)
    lower = path.lower()
    if lower.endswith((".parquet", ".pq")):
        return pd.read_parquet(path)
    if lower.endswith((".xlsx", ".xls")):
        return pd.read_excel(path)
    if lower.endswith((".tsv", ".tab")):
        return pd.read_csv(path, sep="\t")
    if lower.endswith((".jsonl", ".ndjson")):
        return pd.read_json(path, lines=True)
    return pd.read_csv(path)


def prepare_data(data: Any, options: DataOptions) -> pd.DataFrame:
    """The table setup works on: ``data``, or what ``data_func()`` returns, with ``index`` applied.

    ``data_func`` is called once. The data given is never modified.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"id": ["a", "b"], "x": [1.0, 2.0]})
    >>> prepare_data(df, DataOptions(index="id")).index.tolist()
    ['a', 'b']
    """
    if (data is None) == (options.data_func is None):
        given = "both" if data is not None else "neither"
        raise ValueError(f"setup needs exactly one of data and data_func; got {given}")
    if options.data_func is not None:
        data = options.data_func()
        if data is None:
            raise ValueError("data_func returned None; it must return the data (a DataFrame)")
    return _apply_index(as_frame(data), options.index)


def _apply_index(frame: pd.DataFrame, index: Any) -> pd.DataFrame:
    """PyCaret's ``index``: keep, reset, a column (by name or position) or a sequence."""
    if isinstance(index, bool | np.bool_):
        return frame if index else frame.reset_index(drop=True)
    names = list(frame.columns)
    if isinstance(index, numbers.Integral):
        if not -len(names) <= index < len(names):
            raise ValueError(
                f"index must be a column position in [{-len(names)}, {len(names) - 1}]; got {index}"
            )
        index = names[index]
    if isinstance(index, str):
        if index not in names:
            close = difflib.get_close_matches(index, names, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ValueError(f"index names column {index!r}, which is not in the data{hint}")
        out = frame.set_index(index)
    else:
        values = pd.Index(index, name=getattr(index, "name", None))
        if len(values) != len(frame):
            raise ValueError(
                f"index must hold one label per row ({len(frame)}); got {len(values)} labels"
            )
        out = frame.set_axis(values, axis=0)
    if out.index.has_duplicates:
        repeated = out.index[out.index.duplicated()].unique()[:5].tolist()
        raise ValueError(f"index must hold distinct row labels; repeated: {repeated}")
    return out


# --------------------------------------------------------------------------------------------
# The preprocessor
# --------------------------------------------------------------------------------------------


#: Below this many input values (rows x features) the pipeline fits with one BLAS/OpenMP thread:
#: on small data starting threads costs more than it saves (BayesianRidge in iterative imputation
#: ran 80x slower with every core on a loaded 2-core machine). The workflow uses the same rule.
SMALL_DATA = 2_000_000


def _jobs(n_values: int, options: SetupOptions) -> int:
    """Threads for fitting on ``n_values`` values: one for small data, else setup's ``n_jobs``."""
    return 1 if n_values < SMALL_DATA else options.runtime.threads


def _fit_threads(n_values: int, options: SetupOptions) -> Any:
    """Thread limit (BLAS and OpenMP) while fitting (see :func:`_jobs`)."""
    from threadpoolctl import threadpool_limits

    from clusterlab._config import effective_n_jobs

    return threadpool_limits(limits=effective_n_jobs(_jobs(n_values, options)))


def _log_notes(options: SetupOptions) -> None:
    """One line for the PyCaret options a user may expect to do something here."""
    if options.compat.logs_experiment:
        logger.warning(
            "log_experiment=%r: clusterlab has no experiment logger (MLflow, wandb, comet); "
            "nothing is logged",
            options.compat.log_experiment,
        )
    if options.pipeline.memory is True:
        logger.info(
            "memory=True: clusterlab writes no cache to a temporary directory; pass a directory "
            "or a joblib.Memory to cache the fitted transformers"
        )


def _check_columns(schema: pd.DataFrame, options: SetupOptions) -> None:
    """Columns named by engineering options must be numeric features."""
    eng = options.engineering
    names = list(schema.index)
    groups = eng.group_features or {}
    for option, cols in (
        ("bin_numeric_features", eng.bin_numeric_features),
        *((f"group_features[{g!r}]", cols) for g, cols in groups.items()),
    ):
        _check_names(option, cols, names)
        for c in cols:
            if schema.loc[c, "kind"] != "numeric":
                raise ValueError(
                    f"{option} column {c!r} must be a numeric feature; it is "
                    f"{schema.loc[c, 'kind']} ({schema.loc[c, 'reason']})"
                )
    if groups and eng.bin_numeric_features:
        both = sorted(set(eng.bin_numeric_features) & {c for g in groups.values() for c in g})
        if both:
            raise ValueError(f"columns {both} cannot be both binned and grouped")


def _check_features(
    data: pd.DataFrame, schema: pd.DataFrame, features: list[str], options: SetupOptions
) -> None:
    """Refuse data the pipeline cannot prepare, naming the columns and the way out."""
    if not features:
        listing = ", ".join(f"{c} ({k})" for c, k in schema["kind"].items())
        raise ValueError(
            "data has no usable feature columns; inferred: "
            f"{listing}. Id-like, constant and ignored columns are not features, nor is free "
            "text unless named in text_features; name columns in numeric_features / "
            "categorical_features / text_features / keep_features to use them"
        )
    for c in features:
        if schema.loc[c, "kind"] == "numeric":
            values = pd.to_numeric(data[c], errors="coerce").to_numpy(dtype=float)
            if np.isinf(values).any():
                raise ValueError(
                    f"column {c!r} holds infinite values; replace them (e.g. with NaN, which "
                    "setup imputes) or name the column in ignore_features"
                )
    pipe = options.pipeline
    if pipe.custom_pipeline or (pipe.preprocess and options.imputation.imputation_type):
        return  # missing values are imputed (by setup or, perhaps, by the custom steps)
    why = "imputation_type=None" if pipe.preprocess else "preprocess=False"
    missing = [c for c in features if data[c].isna().any()]
    if missing:
        raise ValueError(
            f"columns {missing} have missing values, and {why} fills none; use "
            "imputation_type='simple' or 'iterative', or name the columns in ignore_features"
        )
    if not pipe.preprocess:
        text = [c for c in features if not pd.api.types.is_numeric_dtype(data[c])]
        if text:
            raise ValueError(
                f"columns {text} are not numeric, and preprocess=False encodes nothing; let setup "
                "preprocess, add a custom_pipeline that encodes them, or name them in "
                "ignore_features"
            )


class Preprocessor:
    """Infer the schema, build and fit the pipeline once, and decide which rows train models.

    Parameters
    ----------
    options : SetupOptions

    Attributes
    ----------
    schema_ : pandas.DataFrame
        The inferred schema (see :func:`infer_schema`).
    features_ : list of str
        The input columns the pipeline reads.
    pipeline_ : sklearn.pipeline.Pipeline
        The fitted pipeline; ``transform`` reuses it.
    train_mask_ : numpy.ndarray of bool
        Rows of the fitted data used for training models.
    dropped_ : pandas.Series
        Why each left-out row was left out (``'missing values'`` or ``'outlier'``).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": ["x", "y", "x", "y"]})
    >>> pre = Preprocessor(SetupOptions.parse(normalize=True, verbose=False)).fit(df)
    >>> list(pre.transform(df).columns)
    ['a', 'b_x', 'b_y']
    """

    def __init__(self, options: SetupOptions) -> None:
        self.options = options

    def fit(self, data: pd.DataFrame) -> Preprocessor:
        """Infer the schema of ``data`` and fit the pipeline on its training rows."""
        options = self.options
        schema = infer_schema(data, options.columns)
        features = feature_columns(schema, options.columns)
        _check_features(data, schema, features, options)
        _check_columns(schema, options)
        self.schema_, self.features_ = schema, features
        keep, reasons = self._rows_with_values(data, schema)
        _log_notes(options)
        pipeline = build_pipeline(schema, options, data.loc[keep], features)
        _pandas_output(pipeline)
        with _fit_threads(len(data) * len(features), options):
            pipeline.fit(data.loc[keep, features])
        if not isinstance(pipeline.memory, str | type(None)):
            # keep the cache's place, not the joblib.Memory object, so the pipeline saves safely
            location = getattr(pipeline.memory, "location", None)
            pipeline.memory = None if location is None else os.fspath(location)
        self.pipeline_ = pipeline
        if options.outliers.remove_outliers:
            X = self.transform(data).to_numpy(dtype=float)
            inlier = np.zeros(len(data), dtype=bool)
            with _fit_threads(X.size, options):
                inlier[keep] = _outlier_mask(
                    X[keep],
                    options.outliers,
                    options.sample_size,
                    options.session_id,
                    _jobs(X.size, options),
                )
            outlier = keep & ~inlier
            reasons[outlier] = "outlier"
            keep &= inlier
        self.train_mask_ = keep
        self.dropped_ = reasons[~keep]
        return self

    def _rows_with_values(
        self, data: pd.DataFrame, schema: pd.DataFrame
    ) -> tuple[np.ndarray, pd.Series]:
        """Rows kept for training, and why the others are left out (missing values)."""
        keep = np.ones(len(data), dtype=bool)
        reasons = pd.Series(pd.NA, index=data.index, dtype=object)
        if not self.options.imputation.drops_rows:
            return keep, reasons
        cols = self._drop_columns(schema)
        missing = data[cols].isna().any(axis=1).to_numpy() if cols else np.zeros(len(data), bool)
        keep &= ~missing
        reasons[missing] = "missing values"
        if not keep.any():
            raise ValueError("every row has a missing value; imputation='drop' leaves no rows")
        return keep, reasons

    def _drop_columns(self, schema: pd.DataFrame) -> list[str]:
        imp = self.options.imputation
        kinds = schema["kind"].loc[self.features_]
        cols = []
        if imp.numeric_imputation == "drop":
            cols += [c for c in kinds.index if kinds[c] in ("numeric", "date")]
        if imp.categorical_imputation == "drop":
            cols += [c for c in kinds.index if kinds[c] in ("categorical", "ordinal")]
        return cols

    # ---------------------------------------------------------------- restoring (persistence)
    # What a saved experiment needs to rebuild a fitted Preprocessor without refitting it; the
    # only way code outside this class sets its fitted attributes.

    @classmethod
    def restore(
        cls,
        options: SetupOptions,
        *,
        schema: pd.DataFrame,
        features: list[str],
        pipeline: Any,
        train_mask: np.ndarray,
        dropped: pd.Series,
    ) -> Preprocessor:
        """A fitted Preprocessor from its saved parts (see :class:`Preprocessor`'s attributes).

        ``features`` are the columns the fitted ``pipeline`` reads; ``dropped`` holds the reason
        of each row left out of training (the rows where ``train_mask`` is False).
        """
        pre = cls(options)
        pre.schema_ = schema
        pre.features_ = list(features)
        pre.pipeline_ = pipeline
        pre.train_mask_ = np.asarray(train_mask, dtype=bool)
        pre.dropped_ = dropped
        return pre

    # ---------------------------------------------------------------- end of restoring

    def transform(self, data: pd.DataFrame) -> pd.DataFrame:
        """Prepared features for ``data`` (which needs the feature columns the fit saw)."""
        missing = [c for c in self.features_ if c not in data.columns]
        if missing:
            raise ValueError(f"data lacks the feature columns {missing} that setup used")
        out = self.pipeline_.transform(data[self.features_])
        if not isinstance(out, pd.DataFrame):
            out = pd.DataFrame(out, columns=_output_names(self.pipeline_, np.shape(out)[1]))
        out.index = data.index
        out.columns = [str(c) for c in out.columns]
        return _checked_numbers(out, missing_input=bool(data[self.features_].isna().any().any()))


def _output_names(pipeline: Any, n: int) -> list[str]:
    """The pipeline's output names, or ``x0, x1, ...`` when a custom step gives none."""
    try:
        names = [str(c) for c in pipeline.get_feature_names_out()]
    except (AttributeError, ValueError, TypeError):
        return [f"x{i}" for i in range(n)]
    return names if len(names) == n else [f"x{i}" for i in range(n)]


def _checked_numbers(out: pd.DataFrame, *, missing_input: bool) -> pd.DataFrame:
    """``out`` as float64, refusing text and non-finite values with the columns named.

    Non-finite values come from missing input values that nothing imputed, or from finite values
    too large for a transformation (``missing_input`` tells which to name).
    """
    text = [c for c in out.columns if not pd.api.types.is_numeric_dtype(out[c])]
    if text:
        raise ValueError(
            f"prepared columns {text[:10]} are not numeric: with preprocess=False the feature "
            "columns reach the models as they are, and custom_pipeline steps must return numbers"
        )
    out = out.astype("float64")
    values = out.to_numpy()
    bad = ~np.isfinite(values)
    if not bad.any():
        return out
    columns = list(out.columns[bad.any(axis=0)])
    if missing_input and np.isnan(values).any():
        raise ValueError(
            f"prepared columns {columns[:10]} hold missing values, which models cannot take: "
            "impute them (imputation_type='simple' or 'iterative', or a custom_pipeline step)"
        )
    # finite input can still overflow a transformation (z-scores of values near 1e308)
    raise ValueError(
        f"preparing the features gave non-finite values in {columns}: a column's values "
        "are too large for the chosen transformation (its variance overflows); rescale "
        "those columns (e.g. divide by a power of ten) or name them in ignore_features"
    )
