"""One model id of the registry: its estimator classes (engines) and its behaviour.

A :class:`ModelEntry` names its estimator classes through :func:`lazy_class` (a
``"module:Class"`` string a reader can follow and a test imports), one per *engine*:
``"clusterlab"`` (our estimator) and ``"sklearn"`` (scikit-learn's counterpart, where one
exists). The default engine is clusterlab's when the entry has one.

Everything model-specific the layers above need is on the entry, as data or small strategy
objects: data-dependent default parameters (``defaults``), how ``compare_models`` chooses the key
parameter (``key_search``: a :class:`ChooseK` k path, or a :class:`SizeSearch` for density
models), the tuning space (``tuning``, with :class:`Scaled` values estimated from the data), the
out-of-sample rule, the types a model file may hold, memory class, turbo limit, noise and warm
start. Nothing above the registry compares model ids.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from clusterlab.models.out_of_sample import KNNVote, Rule, rule_for

__all__ = [
    "ENGINES",
    "CategoryInput",
    "ChooseK",
    "ClassRef",
    "DataContext",
    "ModelEntry",
    "Scaled",
    "SizeSearch",
    "lazy_class",
]

#: Engine names, in order of preference for the default.
ENGINES = ("clusterlab", "sklearn")
#: Memory classes; O(n²) ids check the memory budget before they run.
MEMORY_CLASSES = ("O(n)", "O(n·k)", "O(n²)")
#: k when a model that takes one is created without ``num_clusters``.
DEFAULT_K = 4
_ENGINE_TEXT = {"clusterlab": "clusterlab", "sklearn": "scikit-learn"}


@dataclass(frozen=True)
class ClassRef:
    """An estimator class named ``"module:Class"``, imported on first use.

    Attributes
    ----------
    path : str
        ``"module:Class"``, e.g. ``"clusterlab.cluster.kmeans:KMeans"``.
    defaults : tuple of (str, value) pairs
        Parameters every estimator built from this reference gets unless given.
    """

    path: str
    defaults: tuple[tuple[str, Any], ...] = ()

    @property
    def module(self) -> str:
        return self.path.partition(":")[0]

    @property
    def name(self) -> str:
        return self.path.partition(":")[2]

    def load(self) -> type:
        """Import the module and return the class."""
        return getattr(importlib.import_module(self.module), self.name)

    def loaded(self) -> type | None:
        """The class when its module is imported already, else None (no instance can exist)."""
        module = sys.modules.get(self.module)
        return None if module is None else getattr(module, self.name, None)

    def __call__(self, **params: Any) -> Any:
        """An unfitted estimator: ``defaults`` overridden by ``params``."""
        return self.load()(**{**dict(self.defaults), **params})


def lazy_class(path: str, **defaults: Any) -> ClassRef:
    """Reference an estimator class by ``"module:Class"`` without importing it.

    Examples
    --------
    >>> ref = lazy_class("clusterlab.cluster.kmeans:KMeans")
    >>> ref.name, ref.load().__name__
    ('KMeans', 'KMeans')
    """
    module, sep, name = path.partition(":")
    if not sep or not module or not name.isidentifier():
        raise ValueError(f"path must be 'module:Class'; got {path!r}")
    return ClassRef(path, tuple(sorted(defaults.items())))


@dataclass(frozen=True, eq=False)
class DataContext:
    """What data-dependent behaviour of an entry sees.

    Attributes
    ----------
    X : ndarray of shape (n_samples, n_features)
        The prepared rows the model will be fitted on.
    seed : int or None
        The experiment's ``session_id``.
    search_size : int
        Rows an estimate from the data may sample.
    """

    X: np.ndarray
    seed: int | None
    search_size: int

    def sample(self, size: int | None = None) -> np.ndarray:
        """``X``, or a random sample (seeded by ``seed``) of ``size`` rows (default
        ``search_size``) when it has more."""
        size = self.search_size if size is None else size
        if len(self.X) <= size:
            return self.X
        rng = np.random.default_rng(self.seed)
        return self.X[np.sort(rng.choice(len(self.X), size, replace=False))]


@dataclass(frozen=True)
class ChooseK:
    """The number of clusters is chosen by :func:`clusterlab.selection.choose_k`.

    Attributes
    ----------
    path : str
        How choose_k fits the model for every k (see :data:`clusterlab.selection.paths.PATHS`):
        ``'kmeans'`` (warm-started k-means), ``'refit'`` (a fit per k), ``'linkage'`` (one tree
        cut at every k), ``'mixture'`` (with BIC / AIC), ``'spectral'`` (one eigendecomposition,
        with the eigengap), ``'affinity'`` (one similarity matrix; the preference searches of
        every k run as one).
    rows : int, optional
        Rows compare_models gives choose_k (a random sample); None: the experiment's
        ``search_size``.
    n_refs : int
        Reference data sets of the gap statistic in compare_models.
    k_range : range
        The k compare_models considers (those below the number of rows).
    """

    path: str
    rows: int | None = None
    n_refs: int = 3
    k_range: range = range(2, 11)


@dataclass(frozen=True)
class SizeSearch:
    """The key parameter is chosen on a sample by the workflow's rank rule among ``values``,
    then scaled by (rows / sample rows) for the fit on all rows (at least ``minimum``)."""

    values: tuple[int, ...]
    minimum: int = 2


@dataclass(frozen=True)
class Scaled:
    """Tuning values: multiples of an estimate from a sample of the data (rounded to 6 digits)."""

    estimate: Callable[[np.ndarray, DataContext], float]
    factors: tuple[float, ...]

    def values(self, X: np.ndarray, context: DataContext) -> list[float]:
        base = self.estimate(X, context)
        return [round(base * f, 6) for f in self.factors]


#: Column weights of the Gower distance the workflow gives k-medoids on data with categorical
#: columns (``metric='gower'`` or not given); see :class:`clusterlab.GowerDistance`. Chosen by
#: the quality battery of ``benchmarks/bench_gower.py`` (k-medoids FasterPAM, k = the number of
#: true classes, ARI equal -> balanced): palmerpenguins 0.496 -> 0.543 (species; k-means on the
#: one-hot columns 0.543), wholesale customers -0.034 -> 0.558 (Channel, Region categorical:
#: equal weights split by Region), mice proteins 0.231 -> 0.207 and vega's cars 0.062 -> 0.056
#: (77 and 6 numbers beside 2 and 1 categories: the numbers already dominate).
WORKFLOW_GOWER_WEIGHTS = "balanced"


@dataclass(frozen=True)
class CategoryInput:
    """The id reads setup's raw view of categorical columns (one column of category codes per
    categorical column, :mod:`clusterlab.workflow.categories`) instead of the one-hot features.

    Attributes
    ----------
    columns_param : str or None
        The parameter given the positions of the code columns when not given (KPrototypes'
        ``categorical``); None: the model takes every column as categories (k-modes).
    gower_metric : bool
        The id reads the raw view only with Gower's distance: when its ``metric`` is not given
        on data with categorical columns, or is ``'gower'``, it becomes
        ``GowerDistance(categorical=<positions>, weights=WORKFLOW_GOWER_WEIGHTS)``; a
        GowerDistance without ``categorical`` gets the positions; any other metric reads the
        one-hot features.
    compare : {'any', 'all'}
        ``compare_models`` runs the id when not told which if some (``'any'``) or every
        (``'all'``) feature column is categorical.
    """

    columns_param: str | None = None
    gower_metric: bool = False
    compare: str = "any"

    def __post_init__(self) -> None:
        if self.compare not in ("any", "all"):
            raise ValueError(f"compare must be 'any' or 'all'; got {self.compare!r}")

    def reads_raw(self, params: Mapping[str, Any], has_categories: bool = True) -> bool:
        """Whether an estimator with ``params`` (those given, or all of a built one) reads the
        raw view."""
        if not self.gower_metric:
            return True
        metric = params.get("metric", "gower" if has_categories else None)
        return is_gower(metric)

    def params(self, given: Mapping[str, Any], categorical: tuple[int, ...]) -> dict[str, Any]:
        """The parameters to set on an estimator reading the raw view, whose code columns are
        at ``categorical``."""
        if self.gower_metric:
            metric = given.get("metric", "gower")
            if isinstance(metric, str):  # 'gower': setup's categorical columns
                from clusterlab.metrics.gower import GowerDistance

                weights = WORKFLOW_GOWER_WEIGHTS
                return {"metric": GowerDistance(categorical=list(categorical), weights=weights)}
            if metric.get_params().get("categorical") is None:
                from sklearn.base import clone

                # a GowerDistance of the user's without columns: setup's categorical columns
                # (the raw view's codes are numbers, so the dtypes would name none)
                return {"metric": clone(metric).set_params(categorical=list(categorical))}
            return {}
        if self.columns_param is not None and given.get(self.columns_param) is None:
            return {self.columns_param: list(categorical)}
        return {}

    def in_compare(self, n_categorical: int, n_features: int) -> bool:
        """Whether compare_models runs the id on data with these feature columns."""
        if self.compare == "all":
            return 0 < n_categorical == n_features
        return n_categorical > 0


def is_gower(metric: Any) -> bool:
    """Whether ``metric`` is Gower's distance: ``'gower'`` or a GowerDistance-like object."""
    if isinstance(metric, str):
        return metric == "gower"
    params = metric.get_params() if hasattr(metric, "get_params") else {}
    return {"categorical", "ordinal", "weights"} <= set(params) and hasattr(metric, "fit")


@dataclass(frozen=True, kw_only=True, eq=False)
class ModelEntry:
    """One model id of the registry.

    Attributes
    ----------
    id, name : str
        Short id (``'kmeans'``) and display name.
    engines : mapping of str to ClassRef
        Engine name (``'clusterlab'``, ``'sklearn'``) to estimator class; the default is
        clusterlab's when present.
    about : str
        What clusterlab's engine is, for ``models()`` (``'numba k-means++ and Lloyd'``).
    key_param : str or None
        The hyperparameter compare_models chooses (``n_clusters``, ``eps``, ...).
    key_search : ChooseK, SizeSearch or None
        How compare_models chooses it; None: the data-dependent default (eps, bandwidth).
        A :class:`ChooseK` makes ``num_clusters`` mean ``key_param``.
    defaults : callable, optional
        ``defaults(context, given) -> dict``: defaults for the data at hand, for the
        parameters not in ``given`` (beyond the seed and k, which every entry gets).
    tuning : mapping
        ``tune_model``'s default space: parameter -> list of values or :class:`Scaled`.
    out_of_sample : type
        The rule for an estimator of this id without a ``predict`` of its own.
    portable_rule : type, optional
        A data-only rule a model file stores instead of an estimator skops cannot store.
    trusted : frozenset of str
        Types (besides estimator classes) a model file of this id may hold.
    memory : str
        ``'O(n)'``, ``'O(n·k)'`` or ``'O(n²)'`` (O(n²) ids are skipped when n² floats
        exceed the memory budget).
    turbo_max_n : int or None
        Above this many rows ``compare_models(turbo=True)`` skips the id (slow in time).
    random_state_param : str or None
        The parameter seeded with ``session_id``.
    uses_noise : bool
        Whether the model labels noise (-1).
    warm_init : bool
        The estimator accepts initial centers as ``init``: compare_models starts its final fit
        from the solution choose_k found at the chosen k.
    aliases : mapping
        Older names (choose_k's ``'agglomerative'``, ``'ward'`` ...) and the parameters they
        imply.
    in_compare : bool
        Whether ``compare_models`` runs the id when not told which (``include=None``); False
        for ids that only make sense when asked for or whose kernels would add their compile
        time to every first comparison. An id with ``categories`` runs as its
        :meth:`CategoryInput.in_compare` says.
    categories : CategoryInput or None
        The id reads setup's raw categorical columns (see :class:`CategoryInput`).
    """

    id: str
    name: str
    engines: Mapping[str, ClassRef]
    about: str = ""
    key_param: str | None = None
    key_search: ChooseK | SizeSearch | None = None
    defaults: Callable[[DataContext, Mapping[str, Any]], dict[str, Any]] | None = None
    tuning: Mapping[str, Any] = field(default_factory=dict)
    out_of_sample: type = KNNVote
    portable_rule: type | None = None
    trusted: frozenset[str] = frozenset()
    memory: str = "O(n)"
    turbo_max_n: int | None = None
    random_state_param: str | None = "random_state"
    uses_noise: bool = False
    warm_init: bool = False
    aliases: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    in_compare: bool = True
    categories: CategoryInput | None = None

    def __post_init__(self) -> None:
        unknown = set(self.engines) - set(ENGINES)
        if not self.engines or unknown:
            raise ValueError(
                f"{self.id}: engines must name at least one of {ENGINES}; got {list(self.engines)}"
            )
        if self.memory not in MEMORY_CLASSES:
            raise ValueError(
                f"{self.id}: memory must be one of {MEMORY_CLASSES}; got {self.memory!r}"
            )
        if self.key_search is not None and self.key_param is None:
            raise ValueError(f"{self.id}: key_search needs key_param")

    # ------------------------------------------------------------------------------ engines

    @property
    def default_engine(self) -> str:
        """clusterlab's engine when the entry has one, else the first listed."""
        return next((e for e in ENGINES if e in self.engines), next(iter(self.engines)))

    def engine(self, name: str | None = None) -> ClassRef:
        """The class reference of engine ``name`` (default: :attr:`default_engine`)."""
        name = self.default_engine if name is None else name
        ref = self.engines.get(name)
        if ref is None:
            raise ValueError(
                f"engine must be one of {sorted(self.engines)} for {self.id!r}; got {name!r}"
            )
        return ref

    def estimator_class(self, engine: str | None = None) -> type:
        return self.engine(engine).load()

    def takes(self, param: str, engine: str | None = None) -> bool:
        """Whether engine ``engine``'s class has the parameter ``param`` (imports the class).

        The engines of an id need not share every parameter: scikit-learn's
        AffinityPropagation has no ``n_clusters``, clusterlab's has.

        Examples
        --------
        >>> from clusterlab.models import get_entry
        >>> ap = get_entry("ap")
        >>> ap.takes("n_clusters", "clusterlab"), ap.takes("n_clusters", "sklearn")
        (True, False)
        """
        parameters = inspect.signature(self.estimator_class(engine)).parameters
        return param in parameters or any(
            p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()
        )

    def build(self, engine: str | None = None, **params: Any) -> Any:
        """An unfitted estimator of ``engine`` with ``params``."""
        return self.engine(engine)(**params)

    def factory(self, **params: Any) -> Any:
        """An unfitted estimator of the default engine (``build(**params)``)."""
        return self.build(**params)

    # ------------------------------------------------------------------------------ behaviour

    @property
    def needs_k(self) -> bool:
        """Whether ``num_clusters`` means something (the key parameter is a number of clusters)."""
        return isinstance(self.key_search, ChooseK)

    @property
    def native_predict(self) -> bool:
        """Whether the default engine's estimator has its own ``predict`` (imports the class)."""
        return hasattr(self.estimator_class(), "predict")

    @property
    def implementation(self) -> str:
        """Which class backs the id, for ``models()``."""
        engine = self.default_engine
        text = f"{_ENGINE_TEXT[engine]} {self.engine().name}"
        if engine == "clusterlab":
            text += f" ({self.about})" if self.about else ""
        else:
            text += " (clusterlab's own not yet available)"
        if not self.native_predict:
            text += f"; predict: {self.out_of_sample.label}"
        return text

    def default_params(self, context: DataContext, given: Mapping[str, Any]) -> dict[str, Any]:
        """Defaults for the data: the seed, k = 4 (at most the rows), then ``defaults``."""
        out: dict[str, Any] = {}
        if self.random_state_param and context.seed is not None:
            out[self.random_state_param] = context.seed
        if self.needs_k and self.key_param not in given:
            out[self.key_param] = min(DEFAULT_K, len(context.X))
        if self.defaults is not None:
            out.update(self.defaults(context, given))
        return out

    def tune_space(self, context: DataContext) -> dict[str, list]:
        """tune_model's default space for the data: :class:`Scaled` values estimated on a sample,
        and k below the number of rows."""
        sample = context.sample()
        space = {
            name: values.values(sample, context) if isinstance(values, Scaled) else list(values)
            for name, values in self.tuning.items()
        }
        if self.needs_k and self.key_param in space:
            space[self.key_param] = [k for k in space[self.key_param] if k < len(context.X)]
        return space

    def rule_for(self, estimator: Any) -> Rule:
        """The unfitted out-of-sample rule for a (fitted) estimator of this id."""
        return rule_for(estimator, self.out_of_sample)

    def __repr__(self) -> str:
        return f"ModelEntry(id={self.id!r}, engines={sorted(self.engines)})"
