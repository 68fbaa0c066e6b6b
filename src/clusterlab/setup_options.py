"""The options of ``setup``: PyCaret 3's flat keyword names, grouped into small dataclasses.

:meth:`SetupOptions.parse` takes every keyword of ``pycaret.clustering.setup`` (and clusterlab's
own few) and returns one :class:`SetupOptions` holding eleven small groups; every value is
validated once, here, and an error names the option, the rule and the value seen. The groups, in
the order the data meets them:

==================  =========================================================================
group               options
==================  =========================================================================
``data``            ``index``, ``data_func``: which table setup works on (:class:`DataOptions`)
``columns``         which column is what (:class:`ColumnOptions`)
``imputation``      how missing values are filled (:class:`ImputationOptions`)
``encoding``        categories, rare categories, dates and text (:class:`EncodingOptions`)
``engineering``     polynomial, binned and group features (:class:`EngineeringOptions`)
``scaling``         transformation and normalisation (:class:`ScalingOptions`)
``reduction``       low variance, multicollinearity, PCA (:class:`ReductionOptions`)
``outliers``        rows left out of training (:class:`OutlierOptions`)
``pipeline``        ``preprocess``, custom steps, the fit cache (:class:`PipelineOptions`)
``runtime``         ``n_jobs``, ``engines``, ``use_gpu`` (:class:`RuntimeOptions`)
``compat``          PyCaret options that mean nothing here (:class:`CompatOptions`)
==================  =========================================================================

plus ``session_id``, ``sample_size`` and ``verbose`` at the top.

PyCaret's options that change nothing in clusterlab (experiment logging, HTML display, profiling,
the system log file) are accepted so that PyCaret scripts run, are kept in
:class:`CompatOptions`, and never write a file; ``log_experiment`` other than False logs one line
saying that no experiment logger is built in.

:meth:`SetupOptions.to_record` gives the options as plain JSON-safe data that :meth:`parse`
accepts again (objects such as custom transformers are left out: the fitted pipeline holds them).
"""

from __future__ import annotations

import difflib
import logging
import numbers
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "CATEGORICAL_IMPUTERS",
    "DATE_PARTS",
    "NUMERIC_IMPUTERS",
    "ColumnOptions",
    "CompatOptions",
    "DataOptions",
    "EncodingOptions",
    "EngineeringOptions",
    "ImputationOptions",
    "OutlierOptions",
    "PipelineOptions",
    "ReductionOptions",
    "RuntimeOptions",
    "ScalingOptions",
    "SetupOptions",
]

#: Date parts ``create_date_columns`` may name (attributes of ``pandas.Series.dt``).
DATE_PARTS = (
    "year",
    "quarter",
    "month",
    "day",
    "weekday",
    "dayofweek",
    "dayofyear",
    "hour",
    "minute",
    "second",
)
#: Model ids ``numeric_iterative_imputer`` accepts (PyCaret's regression ids), see
#: :func:`clusterlab.transformers.imputation_estimator`.
NUMERIC_IMPUTERS = ("lightgbm", "rf", "et", "dt", "knn", "lr", "ridge", "br")
#: Model ids ``categorical_iterative_imputer`` accepts (PyCaret's classification ids).
CATEGORICAL_IMPUTERS = ("lightgbm", "rf", "et", "dt", "knn", "lr")


# --------------------------------------------------------------------------------------------
# Checks shared by the groups: each error names the option, the rule and the value
# --------------------------------------------------------------------------------------------


def _check_choice(name: str, value: Any, choices: tuple) -> None:
    # choices are strings (and None); comparing only strings keeps arrays and objects out
    ok = any(value is c or (isinstance(value, str) and value == c) for c in choices)
    if not ok:
        raise ValueError(f"{name} must be one of {choices}; got {value!r}")


def _check_fraction(name: str, value: Any, *, low: float = 0.0, high: float = 1.0) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not low < float(value) <= high
    ):
        raise ValueError(f"{name} must be a number in ({low}, {high}]; got {value!r}")


def _check_bool(name: str, value: Any) -> None:
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True or False; got {value!r}")


def _check_int(name: str, value: Any, *, low: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        rule = "an int" if low is None else f"an int >= {low}"
        raise ValueError(f"{name} must be {rule}; got {value!r}")
    if low is not None and value < low:
        raise ValueError(f"{name} must be an int >= {low}; got {value!r}")


def _check_optional(name: str, value: Any, kind: type | tuple, rule: str) -> None:
    if value is not None and not isinstance(value, kind):
        raise TypeError(f"{name} must be None or {rule}; got {value!r}")


def _as_list(name: str, value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple | set | pd.Index | np.ndarray):
        return [v if isinstance(v, str) else str(v) for v in value]
    raise TypeError(f"{name} must be a column name or a list of column names; got {value!r}")


def _is_transformer(obj: Any) -> bool:
    return hasattr(obj, "fit") and hasattr(obj, "transform")


def _is_predictor(obj: Any) -> bool:
    return hasattr(obj, "fit") and hasattr(obj, "predict")


# --------------------------------------------------------------------------------------------
# The groups
# --------------------------------------------------------------------------------------------


@dataclass
class DataOptions:
    """Which table setup works on; applied before the schema is inferred.

    Parameters
    ----------
    index : bool, int, str or sequence, default True
        PyCaret's meaning: ``True`` keeps the data's own row index, ``False`` resets it to
        ``0..n-1``, a str names the column to use as the index and an int gives its position
        (that column is then no longer a feature), and a sequence of ``n_rows`` values is used as
        the index. A column or sequence used as the index must hold distinct values.
    data_func : callable, optional
        A function of no arguments returning the data; called once, by setup. Exactly one of
        ``data`` and ``data_func`` is given.
    """

    index: Any = True
    data_func: Callable[[], Any] | None = None

    def __post_init__(self) -> None:
        i = self.index
        if isinstance(i, dict | set | float) or i is None:
            raise TypeError(
                "index must be True, False, a column name, a column position or a sequence of "
                f"row labels; got {i!r}"
            )
        if not isinstance(i, bool | str | numbers.Integral) and not hasattr(i, "__len__"):
            raise TypeError(
                "index must be True, False, a column name, a column position or a sequence of "
                f"row labels; got {i!r}"
            )
        if self.data_func is not None and not callable(self.data_func):
            raise TypeError(
                f"data_func must be a function returning the data; got {self.data_func!r}"
            )


@dataclass
class ColumnOptions:
    """Which columns are what; every other column's kind is inferred.

    See :func:`clusterlab.preprocessing.infer_schema` for the inference rules.

    Parameters
    ----------
    ignore_features : list of str
        Columns that are never features.
    keep_features : list of str
        Columns that are always features: never dropped by the inference of non-feature kinds (an
        id-like, constant or free-text column is used anyway), nor by ``low_variance_threshold``
        or ``remove_multicollinearity`` (neither the column nor its one-hot, date-part or TF-IDF
        columns, named ``<column>_...``).
    numeric_features, categorical_features, date_features : list of str
        Override the inferred kind.
    ordinal_features : dict
        ``{column: [categories in order]}``, encoded as their rank.
    text_features : list of str
        Columns of free text, embedded by TF-IDF (see ``text_features_method``). Free text that is
        not named here (or in ``keep_features``) is not a feature.
    ground_truth : str, optional
        The column of known labels: never a feature, used by the external metrics.
    """

    ignore_features: list[str] = field(default_factory=list)
    keep_features: list[str] = field(default_factory=list)
    numeric_features: list[str] = field(default_factory=list)
    categorical_features: list[str] = field(default_factory=list)
    ordinal_features: dict[str, list] = field(default_factory=dict)
    date_features: list[str] = field(default_factory=list)
    text_features: list[str] = field(default_factory=list)
    ground_truth: str | None = None

    def __post_init__(self) -> None:
        for name in (
            "ignore_features",
            "keep_features",
            "numeric_features",
            "categorical_features",
            "date_features",
            "text_features",
        ):
            setattr(self, name, _as_list(name, getattr(self, name)))
        if self.ordinal_features is None:
            self.ordinal_features = {}
        if not isinstance(self.ordinal_features, Mapping):
            raise TypeError(
                "ordinal_features must be a dict {column: [categories in order]}; "
                f"got {self.ordinal_features!r}"
            )
        self.ordinal_features = {str(k): list(v) for k, v in self.ordinal_features.items()}
        if self.ground_truth is not None and not isinstance(self.ground_truth, str):
            raise TypeError(f"ground_truth must be a column name; got {self.ground_truth!r}")
        both = sorted(set(self.keep_features) & set(self.ignore_features))
        if both:
            raise ValueError(f"columns {both} are in both keep_features and ignore_features")


@dataclass
class ImputationOptions:
    """How missing values are filled.

    Parameters
    ----------
    imputation_type : {'simple', 'iterative', None}, default 'simple'
        ``'simple'`` fills each column on its own (``numeric_imputation``,
        ``categorical_imputation``); ``'iterative'`` predicts every missing value from the other
        columns, round-robin (chained equations), with ``numeric_iterative_imputer`` and
        ``categorical_iterative_imputer``; ``None`` imputes nothing, and setup then refuses
        feature columns with missing values (models cannot take them).
    numeric_imputation : str or number, default 'mean'
        ``'mean'``, ``'median'``, ``'mode'``, ``'zero'`` (PyCaret's name) or ``'constant'`` (both
        fill 0), ``'knn'``, ``'drop'`` (rows with a missing value are left out of training and
        labelled by predict after median filling), or a number to fill with.
    categorical_imputation : {'mode', 'constant', 'drop'}, default 'mode'
        ``'constant'`` fills PyCaret's category ``'not_available'``.
    iterative_imputation_iters : int, default 5
        Rounds of iterative imputation.
    numeric_iterative_imputer : str or regressor, default 'lightgbm'
        One of ``NUMERIC_IMPUTERS`` or a scikit-learn regressor (cloned per column); None is
        the default.
        ``'lightgbm'`` is scikit-learn's ``HistGradientBoostingRegressor`` (the same histogram
        gradient-boosting algorithm, without a LightGBM dependency).
    categorical_iterative_imputer : str or classifier, default 'lightgbm'
        One of ``CATEGORICAL_IMPUTERS`` or a scikit-learn classifier.
    """

    imputation_type: str | None = "simple"
    numeric_imputation: str | float = "mean"
    categorical_imputation: str = "mode"
    iterative_imputation_iters: int = 5
    numeric_iterative_imputer: Any = "lightgbm"
    categorical_iterative_imputer: Any = "lightgbm"

    def __post_init__(self) -> None:
        _check_choice("imputation_type", self.imputation_type, ("simple", "iterative", None))
        if not (
            isinstance(self.numeric_imputation, numbers.Real)
            and not isinstance(self.numeric_imputation, bool)
        ):
            _check_choice(
                "numeric_imputation",
                self.numeric_imputation,
                ("mean", "median", "mode", "zero", "constant", "knn", "drop"),
            )
        _check_choice(
            "categorical_imputation", self.categorical_imputation, ("mode", "constant", "drop")
        )
        _check_int("iterative_imputation_iters", self.iterative_imputation_iters, low=1)
        for name, ids in (
            ("numeric_iterative_imputer", NUMERIC_IMPUTERS),
            ("categorical_iterative_imputer", CATEGORICAL_IMPUTERS),
        ):
            value = getattr(self, name)
            if value is not None and not _is_predictor(value):  # None: the default, lightgbm
                _check_choice(name, value, ids)

    @property
    def drops_rows(self) -> bool:
        """Whether rows with missing values are left out of training."""
        return self.imputation_type == "simple" and "drop" in (
            self.numeric_imputation,
            self.categorical_imputation,
        )


@dataclass
class EncodingOptions:
    """Encoding of categorical, date and text columns.

    Parameters
    ----------
    encoding_method : None, str or transformer, default None
        ``None`` (PyCaret's default) is clusterlab's default encoding, ``'onehot'``. A string is
        clusterlab's encoding of the columns with at most ``max_encoding_ohe`` categories:
        ``'onehot'``, ``'ordinal'`` or ``'frequency'``; columns with more categories are
        frequency-encoded (their share of rows), so that a high-cardinality column cannot flood
        the features. A transformer (e.g. a ``category_encoders`` encoder that needs no target)
        is PyCaret's meaning: it encodes the columns with more than ``max_encoding_ohe``
        categories, the others are one-hot encoded.
    max_encoding_ohe : int, default 25
        Columns with at most this many categories get ``encoding_method``; a negative value
        (PyCaret's default, -1) one-hot encodes every categorical column.
    rare_to_value : float, optional
        Categories seen in fewer than ``rare_to_value * n_rows`` training rows are grouped into
        one category, ``rare_value``, before encoding (unseen categories join it too).
    rare_value : str, default 'rare'
        The name of the grouped rare category.
    create_date_columns : sequence of str, default ('year', 'month', 'day', 'weekday')
        Parts of each date column that become numeric features (any of ``DATE_PARTS``).
    text_features_method : {'tf-idf', 'bow'} or vectorizer, default 'tf-idf'
        How ``text_features`` become numbers (None: the default): scikit-learn's
        ``TfidfVectorizer`` or
        ``CountVectorizer`` (bag of words), one per column, or a vectorizer object (cloned per
        column; e.g. ``TfidfVectorizer(max_features=200)`` to cap the vocabulary). The result is a
        dense column per term, named ``<column>_<term>``.
    """

    encoding_method: Any = None
    max_encoding_ohe: int = 25
    rare_to_value: float | None = None
    rare_value: str = "rare"
    create_date_columns: tuple[str, ...] = ("year", "month", "day", "weekday")
    text_features_method: Any = "tf-idf"

    def __post_init__(self) -> None:
        if self.encoding_method is not None and not _is_transformer(self.encoding_method):
            _check_choice(
                "encoding_method", self.encoding_method, ("onehot", "ordinal", "frequency")
            )
        _check_int("max_encoding_ohe", self.max_encoding_ohe)
        if self.rare_to_value is not None and (
            isinstance(self.rare_to_value, bool)
            or not isinstance(self.rare_to_value, numbers.Real)
            or not 0 < self.rare_to_value < 1
        ):
            raise ValueError(
                f"rare_to_value must be None or a fraction in (0, 1); got {self.rare_to_value!r}"
            )
        if not isinstance(self.rare_value, str):
            raise TypeError(f"rare_value must be a str; got {self.rare_value!r}")
        if isinstance(self.create_date_columns, str):
            self.create_date_columns = (self.create_date_columns,)
        self.create_date_columns = tuple(self.create_date_columns)
        for part in self.create_date_columns:
            _check_choice("create_date_columns item", part, DATE_PARTS)
        if self.text_features_method is not None and not _is_transformer(self.text_features_method):
            _check_choice("text_features_method", self.text_features_method, ("tf-idf", "bow"))

    @property
    def method(self) -> Any:
        """The encoding of the columns with few categories ('onehot' when None was given)."""
        return "onehot" if self.encoding_method is None else self.encoding_method


@dataclass
class EngineeringOptions:
    """New features derived from the prepared ones.

    Parameters
    ----------
    polynomial_features : bool, default False
        Add the products and powers up to ``polynomial_degree`` of the numeric features (after
        their imputation and transformation); no constant column is added.
    polynomial_degree : int, default 2
        With two numeric features ``a, b`` and degree 2: ``a, b, a^2, a b, b^2``.
    bin_numeric_features : list of str
        Numeric columns replaced by the index of their bin: one-dimensional k-means bins
        (scikit-learn's ``KBinsDiscretizer(strategy='kmeans')``), as many as Sturges' rule gives
        (``ceil(log2(n_rows)) + 1``, at most the column's distinct values).
    group_features : dict, optional
        ``{group name: [numeric columns]}``: add, for each row, the group's ``min``, ``max``,
        ``mean``, ``std`` (ddof 1), ``median`` and ``mode``, named ``<group>_<statistic>``.
    drop_groups : bool, default False
        Drop the grouped columns themselves.
    """

    polynomial_features: bool = False
    polynomial_degree: int = 2
    bin_numeric_features: list[str] = field(default_factory=list)
    group_features: dict[str, list[str]] | None = None
    drop_groups: bool = False

    def __post_init__(self) -> None:
        _check_bool("polynomial_features", self.polynomial_features)
        _check_int("polynomial_degree", self.polynomial_degree, low=1)
        self.bin_numeric_features = _as_list("bin_numeric_features", self.bin_numeric_features)
        _check_bool("drop_groups", self.drop_groups)
        if self.group_features is None:
            return
        if not isinstance(self.group_features, Mapping):
            raise TypeError(
                "group_features must be None or a dict {group name: [columns]}; "
                f"got {self.group_features!r}"
            )
        groups = {}
        for name, given in self.group_features.items():
            cols = _as_list(f"group_features[{name!r}]", given)
            if len(cols) < 2:
                raise ValueError(
                    f"group_features[{name!r}] must list at least two columns; got {cols!r}"
                )
            groups[str(name)] = cols
        self.group_features = groups


@dataclass
class ScalingOptions:
    """Scaling of all prepared features and transformation of the numeric ones.

    Parameters
    ----------
    normalize : bool, default False
        Scale every prepared feature with ``normalize_method`` (zscore / minmax / maxabs /
        robust).
    transformation : bool, default False
        Make numeric features more Gaussian-like with ``transformation_method`` (yeo-johnson /
        quantile).
    log_transform : bool, default False
        clusterlab's own: ``log1p`` of non-negative numeric columns skewed beyond
        ``skew_threshold``.
    """

    normalize: bool = False
    normalize_method: str = "zscore"
    transformation: bool = False
    transformation_method: str = "yeo-johnson"
    log_transform: bool = False
    skew_threshold: float = 1.0

    def __post_init__(self) -> None:
        _check_choice("normalize_method", self.normalize_method, SCALERS)
        _check_choice(
            "transformation_method", self.transformation_method, ("yeo-johnson", "quantile")
        )
        _check_fraction("skew_threshold", self.skew_threshold, high=np.inf)


#: Names ``normalize_method`` accepts.
SCALERS = ("zscore", "minmax", "maxabs", "robust")


@dataclass
class ReductionOptions:
    """Feature removal and projection after encoding.

    Parameters
    ----------
    low_variance_threshold : float, optional
        Drop features whose training variance is at most this (0 drops constant features).
    remove_multicollinearity : bool, default False
        Drop the later column of every pair whose absolute correlation exceeds
        ``multicollinearity_threshold``.
    pca : bool, default False
        Project onto ``pca_components`` components with ``pca_method`` (linear / kernel /
        incremental); ``pca_components`` is None (all), an int, a float in (0, 1) (share of
        variance, linear only) or ``'mle'`` (Minka's estimate, linear only).
    """

    low_variance_threshold: float | None = None
    remove_multicollinearity: bool = False
    multicollinearity_threshold: float = 0.9
    pca: bool = False
    pca_method: str = "linear"
    pca_components: int | float | str | None = None

    def __post_init__(self) -> None:
        if self.low_variance_threshold is not None and (
            isinstance(self.low_variance_threshold, bool)
            or not isinstance(self.low_variance_threshold, numbers.Real)
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
            or c == "mle"
        ):
            raise ValueError(
                f"pca_components must be None, an int >= 1, a float in (0, 1) or 'mle'; got {c!r}"
            )
        if (isinstance(c, float) or c == "mle") and self.pca_method != "linear":
            raise ValueError(
                f"pca_components={c!r} needs pca_method='linear'; got {self.pca_method!r}"
            )


@dataclass
class OutlierOptions:
    """Leave outliers out of training (they are still labelled, by predict, in assign_model).

    ``outliers_method``: ``'iforest'`` (IsolationForest), ``'ee'`` (EllipticEnvelope) or
    ``'lof'`` (LocalOutlierFactor); ``outliers_threshold`` is the share of rows left out.
    """

    remove_outliers: bool = False
    outliers_method: str = "iforest"
    outliers_threshold: float = 0.05

    def __post_init__(self) -> None:
        _check_choice("outliers_method", self.outliers_method, ("iforest", "ee", "lof"))
        _check_fraction("outliers_threshold", self.outliers_threshold, high=0.5)


@dataclass
class PipelineOptions:
    """The shape of the pipeline: built-in steps or not, custom steps, the fit cache.

    Parameters
    ----------
    preprocess : bool, default True
        False applies no built-in transformation: the feature columns go to the models as they
        are (or through ``custom_pipeline``), so they must be numeric without missing values.
    custom_pipeline : transformer, (name, transformer), list of them, dict or Pipeline, optional
        Extra scikit-learn transformers (cloned: the objects given are never fitted).
    custom_pipeline_position : int, default -1
        Where the custom steps go among the built-in steps: 0 first (they then receive the raw
        feature columns and must return a DataFrame of them), ``k`` before the ``k``-th step, and
        a negative value counts from the end: -1 (the default) after the last step, -2 before
        it.
    memory : bool, str, path or joblib.Memory, default False
        scikit-learn's pipeline cache of fitted transformers: a directory path or a
        ``joblib.Memory``. ``True`` (PyCaret's default, a temporary directory) caches nothing in
        clusterlab: setup never writes where the user did not choose.
    """

    preprocess: bool = True
    custom_pipeline: Any = None
    custom_pipeline_position: int = -1
    memory: Any = False

    def __post_init__(self) -> None:
        _check_bool("preprocess", self.preprocess)
        self.custom_pipeline = _custom_steps(self.custom_pipeline)
        _check_int("custom_pipeline_position", self.custom_pipeline_position)
        m = self.memory
        if m is None:
            self.memory = False
        elif not (
            isinstance(m, bool | str | os.PathLike)
            or (hasattr(m, "cache") and hasattr(m, "location"))
        ):
            raise TypeError(
                "memory must be True, False, a directory path or a joblib.Memory; "
                f"got {type(m).__name__}"
            )

    @property
    def cache(self) -> Any:
        """What ``Pipeline(memory=...)`` gets: None, a directory path or a joblib.Memory."""
        m = self.memory
        if isinstance(m, bool):
            return None
        return os.fspath(m) if isinstance(m, os.PathLike) else m


def _custom_steps(value: Any) -> tuple[tuple[str, Any], ...]:
    """``custom_pipeline`` in any of PyCaret's forms, as (name, transformer) pairs."""
    if value is None:
        return ()
    if hasattr(value, "steps") and isinstance(getattr(value, "steps", None), list):
        pairs = list(value.steps)
    elif isinstance(value, Mapping):
        pairs = list(value.items())
    elif isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
        pairs = [value]
    elif isinstance(value, list | tuple):
        pairs = [p if isinstance(p, tuple) else (type(p).__name__.lower(), p) for p in value]
    elif _is_transformer(value):
        pairs = [(type(value).__name__.lower(), value)]
    else:
        raise TypeError(
            "custom_pipeline must be a transformer, a (name, transformer) pair, a list of them, "
            f"a dict or a Pipeline; got {value!r}"
        )
    names = []
    for pair in pairs:
        if not (isinstance(pair, tuple) and len(pair) == 2 and isinstance(pair[0], str)):
            raise TypeError(
                f"custom_pipeline steps must be (name, transformer) pairs; got {pair!r}"
            )
        name, step = pair
        if not _is_transformer(step):
            raise TypeError(
                f"custom_pipeline step {name!r} must have fit and transform; got {step!r}"
            )
        if name in names:
            raise ValueError(f"custom_pipeline step names must be distinct; {name!r} repeats")
        names.append(name)
    return tuple(pairs)


@dataclass
class RuntimeOptions:
    """How the workflow runs.

    Parameters
    ----------
    n_jobs : int or None, default -1
        Threads for models and preprocessing steps that run in parallel: -1 every core, -2 all
        but one, None one (PyCaret's meaning).
    engines : dict, optional
        ``{model id: engine name}`` (e.g. ``{'kmeans': 'sklearn'}``); the workflow checks the ids
        and names when it builds a model.
    use_gpu : bool or 'force', default False
        clusterlab's models run on the CPU (numba). True falls back to the CPU, as PyCaret does
        when no GPU model exists; ``'force'`` (GPU models only) is refused.
    """

    n_jobs: int | None = -1
    engines: dict[str, str] | None = None
    use_gpu: bool | str = False

    def __post_init__(self) -> None:
        n = self.n_jobs
        if n is not None and (isinstance(n, bool) or not isinstance(n, numbers.Integral) or n == 0):
            raise ValueError(f"n_jobs must be None or a nonzero int (-1: every core); got {n!r}")
        if self.engines is not None:
            if not isinstance(self.engines, Mapping):
                raise TypeError(
                    "engines must be None or a dict {model id: engine name}; "
                    f"got {self.engines!r}"
                )
            for key, value in self.engines.items():
                if not isinstance(key, str) or not isinstance(value, str):
                    raise TypeError(
                        "engines must map model ids (str) to engine names (str); "
                        f"got {key!r}: {value!r}"
                    )
            self.engines = dict(self.engines)
        if self.use_gpu == "force":
            raise ValueError(
                "use_gpu='force' asks for GPU models only, and clusterlab has none (its models run "
                "on the CPU, with numba); use use_gpu=False"
            )
        if not isinstance(self.use_gpu, bool | np.bool_):
            raise ValueError(f"use_gpu must be True, False or 'force'; got {self.use_gpu!r}")

    @property
    def threads(self) -> int:
        """``n_jobs`` with PyCaret's None (one processor) resolved."""
        return 1 if self.n_jobs is None else int(self.n_jobs)


@dataclass
class CompatOptions:
    """PyCaret options that mean nothing in clusterlab: accepted, checked, and without effect.

    None of them writes a file. ``html`` and ``silent`` (display and confirmation prompts:
    clusterlab shows plain tables and never asks), ``system_log`` (PyCaret writes ``logs.log``;
    clusterlab logs through Python's :mod:`logging`, logger ``'clusterlab'``, configure it to
    capture messages), ``log_experiment``, ``experiment_name``, ``experiment_custom_tags``,
    ``log_plots``, ``log_profile``, ``log_data`` (MLflow / wandb / comet tracking: none is built
    in, and ``log_experiment`` other than False logs one line saying so), ``profile`` and
    ``profile_kwargs`` (an interactive EDA report; see clusterlab's HTML report instead).
    ``experiment_name`` and ``experiment_custom_tags`` are kept for the workflow to show.
    """

    html: bool = True
    silent: bool = False
    system_log: Any = True
    log_experiment: Any = False
    experiment_name: str | None = None
    experiment_custom_tags: dict[str, Any] | None = None
    log_plots: Any = False
    log_profile: bool = False
    log_data: bool = False
    profile: bool = False
    profile_kwargs: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        for name in ("html", "silent", "log_profile", "log_data", "profile"):
            _check_bool(name, getattr(self, name))
        if not isinstance(self.system_log, bool | str | logging.Logger):
            raise TypeError(
                f"system_log must be a bool, a path or a logging.Logger; got {self.system_log!r}"
            )
        _check_optional("experiment_name", self.experiment_name, str, "a str")
        _check_optional("experiment_custom_tags", self.experiment_custom_tags, Mapping, "a dict")
        _check_optional("profile_kwargs", self.profile_kwargs, Mapping, "a dict")
        if not isinstance(self.log_plots, bool | list | tuple):
            raise TypeError(
                f"log_plots must be a bool or a list of plot names; got {self.log_plots!r}"
            )

    @property
    def logs_experiment(self) -> bool:
        """Whether the user asked for an experiment logger (PyCaret's MLflow and others)."""
        value = self.log_experiment
        return not (
            value is False or value is None or (isinstance(value, list | tuple) and not value)
        )


_GROUPS = {
    "data": DataOptions,
    "columns": ColumnOptions,
    "imputation": ImputationOptions,
    "encoding": EncodingOptions,
    "engineering": EngineeringOptions,
    "scaling": ScalingOptions,
    "reduction": ReductionOptions,
    "outliers": OutlierOptions,
    "pipeline": PipelineOptions,
    "runtime": RuntimeOptions,
    "compat": CompatOptions,
}
_TOP = ("session_id", "sample_size", "verbose")


@dataclass
class SetupOptions:
    """Every option of ``setup``, grouped; build it from PyCaret's flat names with :meth:`parse`.

    ``session_id`` seeds every random step; ``sample_size`` caps the rows used by steps whose
    cost grows faster than n (outlier detection, sampled O(n^2) metrics such as the Silhouette,
    hyperparameter searches); ``verbose`` shows setup's tables.

    Examples
    --------
    >>> opts = SetupOptions.parse(normalize=True, rare_to_value=0.05, session_id=1)
    >>> opts.scaling.normalize, opts.encoding.rare_to_value, opts.session_id
    (True, 0.05, 1)
    """

    data: DataOptions = field(default_factory=DataOptions)
    columns: ColumnOptions = field(default_factory=ColumnOptions)
    imputation: ImputationOptions = field(default_factory=ImputationOptions)
    encoding: EncodingOptions = field(default_factory=EncodingOptions)
    engineering: EngineeringOptions = field(default_factory=EngineeringOptions)
    scaling: ScalingOptions = field(default_factory=ScalingOptions)
    reduction: ReductionOptions = field(default_factory=ReductionOptions)
    outliers: OutlierOptions = field(default_factory=OutlierOptions)
    pipeline: PipelineOptions = field(default_factory=PipelineOptions)
    runtime: RuntimeOptions = field(default_factory=RuntimeOptions)
    compat: CompatOptions = field(default_factory=CompatOptions)
    session_id: int | None = None
    sample_size: int = 5_000
    verbose: bool = True

    @classmethod
    def names(cls) -> list[str]:
        """Every flat option name that :meth:`parse` accepts."""
        out = list(_TOP)
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
        result = cls(**groups, **{k: options[k] for k in _TOP if k in options})
        _check_optional_int("session_id", result.session_id, low=0)
        if (
            isinstance(result.sample_size, bool)
            or not isinstance(result.sample_size, numbers.Integral)
            or result.sample_size < 100
        ):
            raise ValueError(f"sample_size must be an int >= 100; got {result.sample_size!r}")
        return result

    def to_record(self) -> dict[str, Any]:
        """The options as flat, JSON-safe data that :meth:`parse` accepts again.

        Objects are not plain data: a function (``data_func``), transformers and estimators
        (``custom_pipeline``, an ``encoding_method`` or ``text_features_method`` object, an
        iterative imputer's estimator) are recorded as None (the default), loggers as True, a
        ``joblib.Memory`` as its directory, a sequence ``index`` as True (the prepared data
        already carries it). The fitted pipeline holds the fitted objects.

        Examples
        --------
        >>> rec = SetupOptions.parse(normalize=True, custom_pipeline=None).to_record()
        >>> SetupOptions.parse(**rec).scaling.normalize
        True
        """
        record: dict[str, Any] = {k: _plain(getattr(self, k)) for k in _TOP}
        for key in _GROUPS:
            group = getattr(self, key)
            for f in fields(group):
                record[f.name] = _plain(getattr(group, f.name))
        record["data_func"] = None
        if not isinstance(self.data.index, bool | str | numbers.Integral):
            record["index"] = True
        record["custom_pipeline"] = None
        memory = self.pipeline.memory
        if not isinstance(memory, bool | str):
            location = memory if isinstance(memory, os.PathLike) else memory.location
            record["memory"] = os.fspath(location) if location is not None else False
        imp, enc = self.imputation, self.encoding
        for name in ("numeric_iterative_imputer", "categorical_iterative_imputer"):
            if not isinstance(getattr(imp, name), str):
                record[name] = None
        if not isinstance(enc.encoding_method, str | type(None)):
            record["encoding_method"] = None
        if not isinstance(enc.text_features_method, str):
            record["text_features_method"] = None
        if isinstance(self.compat.system_log, logging.Logger):
            record["system_log"] = True
        if not isinstance(self.compat.log_experiment, bool | str):
            record["log_experiment"] = self.compat.logs_experiment
        return record


def _check_optional_int(name: str, value: Any, *, low: int) -> None:
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low
    ):
        raise ValueError(f"{name} must be None or an int >= {low}; got {value!r}")


def _plain(value: Any) -> Any:
    """``value`` as JSON-safe data; objects that are not data become None."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, bool | str | int | float):
        return value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | np.ndarray | pd.Index | pd.Series):
        return [_plain(v) for v in value]
    return None
