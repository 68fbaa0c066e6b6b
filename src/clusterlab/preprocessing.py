"""Setup options -> one scikit-learn pipeline, fitted once and reused.

:class:`Preprocessor` turns the options of ``setup`` (grouped into the small dataclasses below)
into a single :class:`sklearn.pipeline.Pipeline` whose first step is a
:class:`sklearn.compose.ColumnTransformer`:

``ColumnTransformer`` (one branch per column kind: numeric, skewed numeric (log1p), one-hot,
frequency-encoded, ordinal, date) -> ``VarianceThreshold`` -> :class:`CorrelationFilter` -> scaler
-> ``PCA``.

Every step is scikit-learn's own (imputers, scalers, encoders, ``PowerTransformer``,
``QuantileTransformer``, ``PCA``, ``IsolationForest``, ``LocalOutlierFactor``) except three small
transformers scikit-learn does not have: :class:`DateFeatures`, :class:`FrequencyEncoder` and
:class:`CorrelationFilter`. Rows are never removed inside the pipeline (a scikit-learn transformer
cannot drop rows): rows with missing values (``numeric_imputation='drop'``) and outliers
(``remove_outliers``) are left out of *training* through :attr:`Preprocessor.train_mask_`, and the
pipeline can still transform them so that they can be labelled by ``predict``.

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
   more); values of five words or more on average -> ``text``; anything else -> ``categorical``.

``id``, ``text``, ``constant`` and ignored columns are never features; the ground-truth column is
kept aside for external metrics only.
"""

from __future__ import annotations

import difflib
import logging
import numbers
import re
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

__all__ = [
    "ColumnOptions",
    "CorrelationFilter",
    "DateFeatures",
    "EncodingOptions",
    "FrequencyEncoder",
    "ImputationOptions",
    "OutlierOptions",
    "Preprocessor",
    "ReductionOptions",
    "ScalingOptions",
    "SetupOptions",
    "infer_schema",
]

logger = logging.getLogger(__name__)

#: Kinds that become features.
FEATURE_KINDS = ("numeric", "categorical", "ordinal", "date")
_ID_NAME = re.compile(r"(^|_|\b)(id|index|key|uuid)$|id$", re.IGNORECASE)
_DATE_CHARS = re.compile(r"[-/:]")


# --------------------------------------------------------------------------------------------
# Options
# --------------------------------------------------------------------------------------------


def _check_choice(name: str, value: Any, choices: tuple) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}; got {value!r}")


def _check_fraction(name: str, value: Any, *, low: float = 0.0, high: float = 1.0) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not low < float(value) <= high
    ):
        raise ValueError(f"{name} must be a number in ({low}, {high}]; got {value!r}")


def _as_list(name: str, value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple | set | pd.Index):
        return [str(v) if not isinstance(v, str) else v for v in value]
    raise TypeError(f"{name} must be a column name or a list of column names; got {value!r}")


@dataclass
class ColumnOptions:
    """Which columns are what; every other column's kind is inferred (see :func:`infer_schema`)."""

    ignore_features: list[str] = field(default_factory=list)
    numeric_features: list[str] = field(default_factory=list)
    categorical_features: list[str] = field(default_factory=list)
    ordinal_features: dict[str, list] = field(default_factory=dict)
    date_features: list[str] = field(default_factory=list)
    text_features: list[str] = field(default_factory=list)
    ground_truth: str | None = None

    def __post_init__(self) -> None:
        for name in (
            "ignore_features",
            "numeric_features",
            "categorical_features",
            "date_features",
            "text_features",
        ):
            setattr(self, name, _as_list(name, getattr(self, name)))
        if self.ordinal_features is None:
            self.ordinal_features = {}
        if not isinstance(self.ordinal_features, dict):
            raise TypeError(
                "ordinal_features must be a dict {column: [categories in order]}; "
                f"got {self.ordinal_features!r}"
            )
        if self.ground_truth is not None and not isinstance(self.ground_truth, str):
            raise TypeError(f"ground_truth must be a column name; got {self.ground_truth!r}")


@dataclass
class ImputationOptions:
    """How missing values are filled.

    ``numeric_imputation``: ``'mean'``, ``'median'``, ``'mode'``, ``'constant'`` (0), ``'knn'``,
    ``'drop'`` (rows with a missing value are left out of training and labelled by predict after
    median / mode filling), or a number to fill with. ``categorical_imputation``: ``'mode'``,
    ``'constant'`` (the category ``'missing'``) or ``'drop'``.
    """

    numeric_imputation: str | float = "mean"
    categorical_imputation: str = "mode"

    def __post_init__(self) -> None:
        if not (
            isinstance(self.numeric_imputation, numbers.Real)
            and not isinstance(self.numeric_imputation, bool)
        ):
            _check_choice(
                "numeric_imputation",
                self.numeric_imputation,
                ("mean", "median", "mode", "constant", "knn", "drop"),
            )
        _check_choice(
            "categorical_imputation", self.categorical_imputation, ("mode", "constant", "drop")
        )

    @property
    def drops_rows(self) -> bool:
        return "drop" in (self.numeric_imputation, self.categorical_imputation)


@dataclass
class ScalingOptions:
    """Scaling of all prepared features and transformation of the numeric ones."""

    normalize: bool = False
    normalize_method: str = "zscore"
    transformation: bool = False
    transformation_method: str = "yeo-johnson"
    log_transform: bool = False
    skew_threshold: float = 1.0

    def __post_init__(self) -> None:
        _check_choice("normalize_method", self.normalize_method, _SCALERS)
        _check_choice(
            "transformation_method", self.transformation_method, ("yeo-johnson", "quantile")
        )
        _check_fraction("skew_threshold", self.skew_threshold, high=np.inf)


_SCALERS = ("zscore", "minmax", "maxabs", "robust")


@dataclass
class EncodingOptions:
    """Encoding of categorical columns.

    ``encoding_method`` is used for columns with at most ``max_encoding_ohe`` categories;
    columns with more categories are frequency-encoded (their share of rows), so that a
    high-cardinality column cannot flood the features.
    """

    encoding_method: str = "onehot"
    max_encoding_ohe: int = 25
    create_date_columns: tuple[str, ...] = ("year", "month", "day", "weekday")

    def __post_init__(self) -> None:
        _check_choice("encoding_method", self.encoding_method, ("onehot", "ordinal", "frequency"))
        if isinstance(self.max_encoding_ohe, bool) or not isinstance(
            self.max_encoding_ohe, numbers.Integral
        ):
            raise ValueError(f"max_encoding_ohe must be an int >= 1; got {self.max_encoding_ohe!r}")
        if self.max_encoding_ohe < 1:
            raise ValueError(f"max_encoding_ohe must be an int >= 1; got {self.max_encoding_ohe!r}")
        self.create_date_columns = tuple(self.create_date_columns)
        for part in self.create_date_columns:
            _check_choice("create_date_columns item", part, DateFeatures.PARTS)


@dataclass
class ReductionOptions:
    """Feature removal and projection after encoding."""

    low_variance_threshold: float | None = None
    remove_multicollinearity: bool = False
    multicollinearity_threshold: float = 0.9
    pca: bool = False
    pca_method: str = "linear"
    pca_components: int | float | None = None

    def __post_init__(self) -> None:
        if self.low_variance_threshold is not None and (
            not isinstance(self.low_variance_threshold, numbers.Real)
            or self.low_variance_threshold < 0
        ):
            raise ValueError(
                "low_variance_threshold must be None or a number >= 0; "
                f"got {self.low_variance_threshold!r}"
            )
        _check_fraction("multicollinearity_threshold", self.multicollinearity_threshold)
        _check_choice("pca_method", self.pca_method, ("linear", "kernel", "incremental"))
        c = self.pca_components
        if c is not None and not (
            (isinstance(c, numbers.Integral) and not isinstance(c, bool) and c >= 1)
            or (isinstance(c, float) and 0 < c < 1)
        ):
            raise ValueError(
                f"pca_components must be None, an int >= 1 or a float in (0, 1); got {c!r}"
            )


@dataclass
class OutlierOptions:
    """Leave outliers out of training (they are still labelled, by predict, in assign_model)."""

    remove_outliers: bool = False
    outliers_method: str = "iforest"
    outliers_threshold: float = 0.05

    def __post_init__(self) -> None:
        _check_choice("outliers_method", self.outliers_method, ("iforest", "lof"))
        _check_fraction("outliers_threshold", self.outliers_threshold, high=0.5)


_GROUPS = {
    "columns": ColumnOptions,
    "imputation": ImputationOptions,
    "scaling": ScalingOptions,
    "encoding": EncodingOptions,
    "reduction": ReductionOptions,
    "outliers": OutlierOptions,
}


@dataclass
class SetupOptions:
    """Every option of ``setup``, grouped; build it from PyCaret's flat names with :meth:`parse`.

    ``sample_size`` caps the rows used by steps whose cost grows faster than n: outlier
    detection, sampled O(n^2) metrics (silhouette) and hyperparameter searches.
    """

    columns: ColumnOptions = field(default_factory=ColumnOptions)
    imputation: ImputationOptions = field(default_factory=ImputationOptions)
    scaling: ScalingOptions = field(default_factory=ScalingOptions)
    encoding: EncodingOptions = field(default_factory=EncodingOptions)
    reduction: ReductionOptions = field(default_factory=ReductionOptions)
    outliers: OutlierOptions = field(default_factory=OutlierOptions)
    session_id: int | None = None
    sample_size: int = 5_000
    verbose: bool = True

    @classmethod
    def names(cls) -> list[str]:
        """Every flat option name that :meth:`parse` accepts."""
        out = [f.name for f in fields(cls) if f.name not in _GROUPS]
        for group in _GROUPS.values():
            out += [f.name for f in fields(group)]
        return out

    @classmethod
    def parse(cls, **options: Any) -> SetupOptions:
        """Group PyCaret-style flat keyword options; an unknown name is a TypeError.

        Examples
        --------
        >>> SetupOptions.parse(normalize=True, session_id=1).scaling.normalize
        True
        """
        known = set(cls.names())
        for name in options:
            if name not in known:
                close = difflib.get_close_matches(name, sorted(known), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise TypeError(f"setup() got an unknown option {name!r}{hint}")
        groups = {}
        for key, group in _GROUPS.items():
            own = {f.name: options[f.name] for f in fields(group) if f.name in options}
            groups[key] = group(**own)
        top = {k: options[k] for k in ("session_id", "sample_size", "verbose") if k in options}
        result = cls(**groups, **top)
        if result.session_id is not None and (
            isinstance(result.session_id, bool)
            or not isinstance(result.session_id, numbers.Integral)
            or result.session_id < 0
        ):
            raise ValueError(f"session_id must be None or an int >= 0; got {result.session_id!r}")
        if (
            isinstance(result.sample_size, bool)
            or not isinstance(result.sample_size, numbers.Integral)
            or result.sample_size < 100
        ):
            raise ValueError(f"sample_size must be an int >= 100; got {result.sample_size!r}")
        return result


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
        for col in cols:
            if col not in names:
                close = difflib.get_close_matches(col, names, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise ValueError(
                    f"column {col!r} (given as {kind}) is not in the data{hint} "
                    f"(columns: {names[:20]})"
                )
            if col in overrides and kind != "ignored":
                raise ValueError(f"column {col!r} is given as both {overrides[col]} and {kind}")
            overrides.setdefault(col, kind)
    rows = []
    for name in names:
        col = data[name]
        if name in overrides:
            kind, reason = overrides[name], "set by the user"
            if kind in FEATURE_KINDS and col.isna().all():
                raise ValueError(f"column {name!r} has only missing values")
        else:
            kind, reason = _infer_one(name, col)
        rows.append((name, kind, reason, str(col.dtype), int(col.isna().sum())))
    schema = pd.DataFrame(rows, columns=["column", "kind", "reason", "dtype", "missing"])
    return schema.set_index("column")


# --------------------------------------------------------------------------------------------
# The three transformers scikit-learn does not have
# --------------------------------------------------------------------------------------------


class DateFeatures(TransformerMixin, BaseEstimator):
    """Turn date columns into numeric parts (year, month, day, weekday, hour).

    Missing or unparseable dates become NaN (impute them afterwards).

    Examples
    --------
    >>> import pandas as pd
    >>> DateFeatures(parts=("year", "month")).fit_transform(
    ...     pd.DataFrame({"d": ["2024-03-01"]})).tolist()
    [[2024.0, 3.0]]
    """

    PARTS = ("year", "month", "day", "weekday", "hour")

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
                attr = "day_of_week" if part == "weekday" else part
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

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 2.0, 0.0], [2.0, 4.1, 1.0], [3.0, 6.0, 0.0]])
    >>> CorrelationFilter(threshold=0.9).fit(X).keep_.tolist()
    [True, False, True]
    """

    def __init__(self, threshold: float = 0.9) -> None:
        self.threshold = threshold

    def fit(self, X: Any, y: Any = None) -> CorrelationFilter:
        names = getattr(X, "columns", None)
        A = np.asarray(X, dtype=float)
        self.n_features_in_ = A.shape[1]
        if names is not None:
            self.feature_names_in_ = np.asarray([str(c) for c in names], dtype=object)
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = np.abs(np.corrcoef(A, rowvar=False)) if A.shape[1] > 1 else np.zeros((1, 1))
        corr = np.nan_to_num(np.atleast_2d(corr))
        keep = np.ones(A.shape[1], dtype=bool)
        for j in range(A.shape[1]):
            if keep[j]:
                # a kept column removes every later column it is too close to
                later = np.arange(j + 1, A.shape[1])
                keep[later[corr[j, later] > self.threshold]] = False
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
    from sklearn.impute import KNNImputer, SimpleImputer

    method = options.numeric_imputation
    if method == "knn":
        return KNNImputer()
    if isinstance(method, numbers.Real):
        return SimpleImputer(strategy="constant", fill_value=float(method))
    strategy = {
        "mean": "mean",
        "median": "median",
        "mode": "most_frequent",
        "constant": "constant",
        # rows with missing values are left out of training; predict still needs a value
        "drop": "median",
    }[method]
    return SimpleImputer(strategy=strategy, fill_value=0.0 if strategy == "constant" else None)


def _categorical_imputer(options: ImputationOptions) -> Any:
    from sklearn.impute import SimpleImputer

    if options.categorical_imputation == "constant":
        return SimpleImputer(strategy="constant", fill_value="missing")
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


def _to_object(X: Any) -> Any:
    """Categorical input as object strings: scikit-learn's imputers and encoders want one type."""
    frame = pd.DataFrame(X).astype(object)
    return frame.where(frame.notna(), np.nan)


def build_pipeline(schema: pd.DataFrame, options: SetupOptions, data: pd.DataFrame) -> Any:
    """Build the unfitted preprocessing pipeline for ``schema`` (see the module docstring)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.feature_selection import VarianceThreshold
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, OrdinalEncoder

    kinds = schema["kind"]
    numeric = [c for c in schema.index if kinds[c] == "numeric"]
    categorical = [c for c in schema.index if kinds[c] == "categorical"]
    ordinal = [c for c in schema.index if kinds[c] == "ordinal"]
    dates = [c for c in schema.index if kinds[c] == "date"]
    scaling, imputing, encoding = options.scaling, options.imputation, options.encoding

    skewed = _skewed(data, numeric, scaling.skew_threshold) if scaling.log_transform else []
    plain = [c for c in numeric if c not in skewed]

    def numeric_branch(log: bool) -> Any:
        steps = [_numeric_imputer(imputing)]
        if log:
            steps.append(FunctionTransformer(np.log1p, feature_names_out="one-to-one"))
        if scaling.transformation:
            steps.append(_transformer(scaling, len(data)))
        return make_pipeline(*steps)

    to_object = FunctionTransformer(_to_object, feature_names_out="one-to-one")
    branches = []
    if plain:
        branches.append(("numeric", numeric_branch(False), plain))
    if skewed:
        branches.append(("numeric_log1p", numeric_branch(True), skewed))
    if categorical:
        few = [c for c in categorical if data[c].nunique() <= encoding.max_encoding_ohe]
        many = [c for c in categorical if c not in few]
        method = encoding.encoding_method
        if method == "onehot" and few:
            enc = OneHotEncoder(handle_unknown="ignore", sparse_output=False, dtype=np.float64)
            branches.append(
                ("onehot", make_pipeline(to_object, _categorical_imputer(imputing), enc), few)
            )
        elif method == "ordinal" and few:
            enc = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)
            branches.append(
                (
                    "ordinal_encoded",
                    make_pipeline(to_object, _categorical_imputer(imputing), enc),
                    few,
                )
            )
        else:
            many = many + few
        if many:
            branches.append(
                (
                    "frequency",
                    make_pipeline(to_object, _categorical_imputer(imputing), FrequencyEncoder()),
                    many,
                )
            )
    for c in ordinal:
        order = list(options.columns.ordinal_features[c])
        enc = OrdinalEncoder(
            categories=[order], handle_unknown="use_encoded_value", unknown_value=-1
        )
        branches.append(
            (f"ordinal_{c}", make_pipeline(to_object, _categorical_imputer(imputing), enc), [c])
        )
    if dates:
        from sklearn.impute import SimpleImputer

        date_pipe = make_pipeline(
            DateFeatures(parts=encoding.create_date_columns), SimpleImputer(strategy="median")
        )
        branches.append(("date", date_pipe, dates))

    steps: list[tuple[str, Any]] = [
        ("columns", ColumnTransformer(branches, remainder="drop", verbose_feature_names_out=False))
    ]
    reduction = options.reduction
    if reduction.low_variance_threshold is not None:
        steps.append(("low_variance", VarianceThreshold(reduction.low_variance_threshold)))
    if reduction.remove_multicollinearity:
        steps.append(
            ("multicollinearity", CorrelationFilter(reduction.multicollinearity_threshold))
        )
    if scaling.normalize:
        steps.append(("normalize", _scaler(scaling.normalize_method)))
    if reduction.pca:
        steps.append(("pca", _pca(reduction, options.session_id)))
    return Pipeline(steps)


def _pca(options: ReductionOptions, seed: int | None) -> Any:
    from sklearn.decomposition import PCA, IncrementalPCA, KernelPCA

    n = options.pca_components
    if options.pca_method == "kernel":
        if isinstance(n, float):
            raise ValueError("pca_components must be an int or None for pca_method='kernel'")
        return KernelPCA(n_components=n, kernel="rbf", random_state=seed)
    if options.pca_method == "incremental":
        if isinstance(n, float):
            raise ValueError("pca_components must be an int or None for pca_method='incremental'")
        return IncrementalPCA(n_components=n)
    return PCA(n_components=n, random_state=seed)


def _outlier_mask(
    X: np.ndarray, options: OutlierOptions, sample_size: int, seed: int | None
) -> np.ndarray:
    """True for the rows the outlier detector keeps (fitted on at most ``sample_size`` rows)."""
    from sklearn.ensemble import IsolationForest
    from sklearn.neighbors import LocalOutlierFactor

    rng = np.random.default_rng(seed)
    n = X.shape[0]
    fit_rows = (
        np.sort(rng.choice(n, sample_size, replace=False)) if n > sample_size else slice(None)
    )
    if options.outliers_method == "iforest":
        det = IsolationForest(contamination=options.outliers_threshold, random_state=seed)
        det.fit(X[fit_rows])
        return det.predict(X) == 1
    if n <= sample_size:
        lof = LocalOutlierFactor(contamination=options.outliers_threshold)
        return lof.fit_predict(X) == 1
    lof = LocalOutlierFactor(contamination=options.outliers_threshold, novelty=True)
    lof.fit(X[fit_rows])
    return lof.predict(X) == 1


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
    import os

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


class Preprocessor:
    """Infer the schema, build and fit the pipeline once, and decide which rows train models.

    Parameters
    ----------
    options : SetupOptions

    Attributes
    ----------
    schema_ : pandas.DataFrame
        The inferred schema (see :func:`infer_schema`).
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
        options = self.options
        schema = infer_schema(data, options.columns)
        features = schema.index[schema["kind"].isin(FEATURE_KINDS)].tolist()
        if not features:
            listing = ", ".join(f"{c} ({k})" for c, k in schema["kind"].items())
            raise ValueError(
                "data has no usable feature columns; inferred: "
                f"{listing}. Free text, id-like, constant and ignored columns are not features; "
                "name columns in numeric_features / categorical_features to use them"
            )
        for c in features:
            if schema.loc[c, "kind"] == "numeric":
                values = pd.to_numeric(data[c], errors="coerce").to_numpy(dtype=float)
                if np.isinf(values).any():
                    raise ValueError(
                        f"column {c!r} holds infinite values; replace them (e.g. with NaN, which "
                        "setup imputes) or name the column in ignore_features"
                    )
        self.schema_ = schema
        self.features_ = features
        keep = np.ones(len(data), dtype=bool)
        reasons = pd.Series(pd.NA, index=data.index, dtype=object)
        if options.imputation.drops_rows:
            cols = self._drop_columns(schema)
            missing = (
                data[cols].isna().any(axis=1).to_numpy() if cols else np.zeros(len(data), bool)
            )
            keep &= ~missing
            reasons[missing] = "missing values"
            if not keep.any():
                raise ValueError("every row has a missing value; imputation='drop' leaves no rows")
        pipeline = build_pipeline(schema, options, data.loc[keep])
        pipeline.set_output(transform="pandas")
        pipeline.fit(data.loc[keep, features])
        self.pipeline_ = pipeline
        if options.outliers.remove_outliers:
            X = self.transform(data).to_numpy(dtype=float)
            inlier = np.zeros(len(data), dtype=bool)
            inlier[keep] = _outlier_mask(
                X[keep], options.outliers, options.sample_size, options.session_id
            )
            outlier = keep & ~inlier
            reasons[outlier] = "outlier"
            keep &= inlier
        self.train_mask_ = keep
        self.dropped_ = reasons[~keep]
        return self

    def _drop_columns(self, schema: pd.DataFrame) -> list[str]:
        imp = self.options.imputation
        kinds = schema["kind"]
        cols = []
        if imp.numeric_imputation == "drop":
            cols += [c for c in schema.index if kinds[c] in ("numeric", "date")]
        if imp.categorical_imputation == "drop":
            cols += [c for c in schema.index if kinds[c] in ("categorical", "ordinal")]
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
        out = out if isinstance(out, pd.DataFrame) else pd.DataFrame(out)
        out.index = data.index
        out.columns = [str(c) for c in out.columns]
        out = out.astype("float64")
        bad = ~np.isfinite(out.to_numpy())
        if bad.any():
            # finite input can still overflow a transformation (z-scores of values near 1e308)
            columns = [c for c, b in zip(out.columns, bad.any(axis=0), strict=True) if b]
            raise ValueError(
                f"preparing the features gave non-finite values in {columns}: a column's values "
                "are too large for the chosen transformation (its variance overflows); rescale "
                "those columns (e.g. divide by a power of ten) or name them in ignore_features"
            )
        return out
