"""From a model id or an estimator to a fitted, scored :class:`FittedModel`.

:func:`resolve` turns what the user passed into an unfitted estimator and the parameters set
(an id gets its registry entry's defaults for the data: k = 4, eps from the k-distance knee,
seeds from ``session_id``); :func:`fit` fits it on the prepared training rows, labels them,
fits the out-of-sample rule and scores the labelling; :func:`create` does both, timed, with the
thread rule for small data.

An id is built by its registry entry's engine: the one ``create_model(engine=...)`` names, else
setup's ``engines={id: name}``, else the entry's default (clusterlab's own where it has one).
Warnings raised while a model fits become the experiment's own messages: a model that did not
converge (scikit-learn's ``ConvergenceWarning``, which clusterlab's estimators raise too) is
logged as a warning and noted in the metrics row; any other (numpy's RuntimeWarnings on
degenerate data, FutureWarnings of a library) is logged at DEBUG level.
"""

from __future__ import annotations

import contextlib
import logging
import numbers
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from clusterlab._config import watch_compilation
from clusterlab.models import (
    REGISTRY,
    ModelEntry,
    entry_for,
    get_entry,
    k_param_of,
    out_of_sample_rule,
)
from clusterlab.preprocessing import SMALL_DATA as _SMALL_DATA
from clusterlab.workflow.categories import gower_input, view_for, view_of
from clusterlab.workflow.prepared import Prepared
from clusterlab.workflow.records import FittedModel, labels_of
from clusterlab.workflow.scoring import MetricSet, score

__all__ = [
    "COMPILE_NOTICE",
    "SMALL_DATA",
    "ModelSpec",
    "check_engines",
    "create",
    "engine_of",
    "fit",
    "fit_clock",
    "is_estimator",
    "resolve",
    "threads_for",
]

logger = logging.getLogger(__name__)
#: The logger of the compile notice; the command line sets its level apart (shown unless
#: ``--quiet``), by this name.
compile_logger = logging.getLogger("clusterlab.workflow.compiling")

#: The one line shown when kernels start compiling in a process.
COMPILE_NOTICE = (
    "compiling clusterlab's numba kernels for this machine: a one-time cost of up to a minute "
    "or two; they are cached on disk, and the Time column leaves it out"
)
_announced: list[bool] = []  # the notice is shown once per process

#: Below this many prepared values (rows x features) models run with one BLAS/OpenMP thread:
#: on small data, starting threads costs more than it saves (20x slower on a loaded 2-core box).
SMALL_DATA = _SMALL_DATA  # the same rule as setup's pipeline fit


@dataclass(frozen=True, eq=False)
class ModelSpec:
    """An unfitted estimator, the id it is shown by, its registry entry and its parameters."""

    model_id: str
    entry: ModelEntry | None
    estimator: Any
    params: dict[str, Any]


def is_estimator(model: Any) -> bool:
    return hasattr(model, "fit") and hasattr(model, "get_params")


def check_engines(engines: Mapping[str, str] | None) -> None:
    """Check setup's ``engines={model id: engine name}`` against the registry.

    Examples
    --------
    >>> check_engines({"kmeans": "sklearn"})
    >>> check_engines({"kmeans": "sklearnex"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: engines: engine must be one of ['clusterlab', 'sklearn'] for 'kmeans'; got ...
    """
    for model_id, name in (engines or {}).items():
        try:
            get_entry(model_id).engine(name)
        except ValueError as exc:
            raise ValueError(f"engines: {exc}") from None


def engine_of(entry: ModelEntry, prepared: Prepared, engine: str | None = None) -> str:
    """The engine an id is built with: ``engine``, else setup's ``engines``, else the default."""
    if engine is None:
        engine = (prepared.options.runtime.engines or {}).get(entry.id, entry.default_engine)
    entry.engine(engine)  # checks the name
    return engine


def resolve(
    model: Any,
    num_clusters: int | None,
    params: Mapping[str, Any],
    prepared: Prepared,
    search_size: int,
    *,
    engine: str | None = None,
) -> ModelSpec:
    """The estimator for a model id (with its entry's defaults for the data, built by its
    engine) or a clone of an estimator, with ``num_clusters`` set as its k."""
    if engine is not None and not isinstance(model, str):
        raise ValueError(
            f"engine={engine!r} chooses the implementation of a model id; "
            f"{type(model).__name__} is an estimator already"
        )
    if isinstance(model, str):
        return _resolve_id(
            get_entry(model), num_clusters, params, prepared, search_size, engine=engine
        )
    if is_estimator(model):
        from sklearn.base import clone

        est = clone(model)
        params = dict(params)
        if num_clusters is not None:
            key = k_param_of(est)
            if key is None:
                raise ValueError(
                    f"num_clusters is meaningless for {type(model).__name__}: "
                    "it has no n_clusters / n_components parameter"
                )
            params[key] = num_clusters
            check_k(num_clusters, len(prepared.X))
        _, completed = view_for(entry_for(est), {**est.get_params(deep=False), **params}, prepared)
        params.update(completed)
        if params:
            est.set_params(**params)
        return ModelSpec(type(model).__name__, None, est, params)
    raise TypeError(
        f"model must be a model id ({', '.join(REGISTRY)}) or a scikit-learn-compatible "
        f"estimator; got {model!r}"
    )


def _resolve_id(
    entry: ModelEntry,
    num_clusters: int | None,
    params: Mapping[str, Any],
    prepared: Prepared,
    search_size: int,
    *,
    engine: str | None,
) -> ModelSpec:
    """:func:`resolve` for a model id: the entry's defaults for the data that its engine's
    class takes (scikit-learn's AffinityPropagation has no ``n_clusters``), then ``params``."""
    engine = engine_of(entry, prepared, engine)
    params = dict(params)
    if num_clusters is not None:
        if not entry.needs_k:
            raise ValueError(
                f"num_clusters is meaningless for {entry.id!r}: it finds the number of "
                f"clusters itself (set {entry.key_param} instead)"
            )
        if not entry.takes(entry.key_param, engine):
            raise ValueError(
                f"num_clusters is not available for {entry.id!r} with engine {engine!r}: "
                f"{entry.engine(engine).name} has no {entry.key_param} parameter (leave "
                f"num_clusters out, or use engine {entry.default_engine!r})"
            )
        params[entry.key_param] = num_clusters
    view, completed = view_for(entry, params, prepared)
    params = {**params, **completed}
    defaults = entry.default_params(view.context(search_size), params)
    params = {**{k: v for k, v in defaults.items() if entry.takes(k, engine)}, **params}
    if entry.needs_k and entry.key_param in params:
        check_k(params[entry.key_param], len(prepared.X))
    return ModelSpec(entry.id, entry, entry.build(engine, **params), params)


def check_k(k: Any, n: int) -> None:
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
        raise ValueError(f"num_clusters must be an int >= 1; got {k!r}")
    if k > n:
        raise ValueError(
            f"num_clusters must be an int in [1, n_samples={n}]; got {k} "
            f"(the prepared data has only {n} rows)"
        )


def fit(
    spec: ModelSpec,
    prepared: Prepared,
    metrics: MetricSet,
    fit_kwargs: Mapping[str, Any] | None = None,
) -> FittedModel:
    """Fit ``spec`` on the training rows; label them, fit the out-of-sample rule, score.

    The estimator reads the view its entry names (the one-hot features, or the raw categorical
    columns of :mod:`clusterlab.workflow.categories`); every labelling is scored on the same
    features, with the silhouette under Gower's distance when the data has categorical columns.
    ``fit_kwargs`` go to the estimator's ``fit`` (PyCaret's meaning); an array of one value per
    row of the data (``sample_weight``) is cut to the training rows."""
    X = view_of(prepared, spec.estimator).X.to_numpy()
    if spec.entry is not None and spec.entry.memory == "O(n²)":
        from clusterlab._config import check_memory

        check_memory(
            8.0 * len(X) ** 2,
            what=f"{spec.entry.name} on {len(X):,} rows (an n x n matrix)",
            alternative="use 'kmeans', 'birch' or 'hdbscan', or sample the data",
        )
    est = spec.estimator
    notes: list[str] = []
    y = None if prepared.y is None else prepared.y.to_numpy()
    sample_size = prepared.options.sample_size
    with converted_warnings(spec.model_id, notes):
        est.fit(X, **_training_rows(fit_kwargs, prepared))
        labels = labels_of(est, X)
        rule = out_of_sample_rule(est).fit(est, X, labels)
        record = FittedModel(spec.model_id, est, labels, rule, spec.params)
        record.metrics = score(
            prepared.X.to_numpy(),
            labels,
            y,
            metrics,
            sample_size=sample_size,
            seed=prepared.seed,
            gower=gower_input(prepared),
        )
    if notes:
        record.metrics["Note"] = "; ".join(t for t in (*notes, record.metrics["Note"]) if t)
    return record


def _training_rows(fit_kwargs: Mapping[str, Any] | None, prepared: Prepared) -> dict[str, Any]:
    if fit_kwargs is None:
        return {}
    if not isinstance(fit_kwargs, Mapping):
        raise TypeError(f"fit_kwargs must be a dict of arguments to fit; got {fit_kwargs!r}")
    n_rows, mask = len(prepared.data), prepared.train_mask
    out = {}
    for name, value in fit_kwargs.items():
        per_row = np.ndim(value) >= 1 and len(value) == n_rows and n_rows != int(mask.sum())
        out[name] = np.asarray(value)[mask] if per_row else value
    return out


@contextlib.contextmanager
def converted_warnings(model_id: str, notes: list[str]) -> Iterator[None]:
    """Warnings raised inside the block as clusterlab's messages (see the module docstring):
    a ConvergenceWarning is logged as a warning ("ap did not converge: ...", or "sc: Number of
    distinct clusters ..." when its text is not about converging) and appended to ``notes``;
    any other is logged at DEBUG level. Nothing reaches Python's warning display."""
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    seen = set()
    for w in caught:
        text = " ".join(str(w.message).split())
        if (w.category, text) in seen:
            continue
        seen.add((w.category, text))
        if issubclass(w.category, ConvergenceWarning):
            # scikit-learn also uses ConvergenceWarning for results that converged but are
            # degenerate ("Number of distinct clusters (3) found smaller than n_clusters"):
            # those are said as they are, not as a failure to converge
            if "converge" in text.lower():
                logger.warning("%s did not converge: %s", model_id, text)
                notes.append(f"did not converge: {text}")
            else:
                logger.warning("%s: %s", model_id, text)
                notes.append(text)
        else:
            logger.debug("%s: %s (%s)", model_id, text, w.category.__name__)


def create(
    model: Any,
    num_clusters: int | None,
    params: Mapping[str, Any],
    prepared: Prepared,
    *,
    metrics: MetricSet,
    search_size: int,
    engine: str | None = None,
    fit_kwargs: Mapping[str, Any] | None = None,
    announce: Callable[[str], None] | None = None,
) -> FittedModel:
    """:func:`resolve` and :func:`fit`, with the fit's time (numba compilation left out, see
    :func:`fit_clock`) in the metrics row."""
    with threads_for(prepared):
        spec = resolve(model, num_clusters, params, prepared, search_size, engine=engine)
        with fit_clock(announce) as seconds:
            record = fit(spec, prepared, metrics, fit_kwargs)
            record.metrics["Time (s)"] = seconds()
    return record


@contextlib.contextmanager
def fit_clock(announce: Callable[[str], None] | None = None) -> Iterator[Callable[[], float]]:
    """Time a fit without numba's compilation; announce the first compilation of the process.

    clusterlab's kernels compile on their first call and are cached on disk, so a process with
    an empty cache pays seconds of compilation inside its first fits. Inside the block,
    ``seconds()`` is the wall time since the block started less the compilation
    (:func:`clusterlab._config.watch_compilation`), rounded to milliseconds, so that a
    ``Time (s)`` column is the model's own time. The first time a kernel compiles in the
    process, ``announce(COMPILE_NOTICE)`` is called (default: logged at INFO level on
    ``compile_logger``, which the command line shows unless ``--quiet``), so that a long first
    run is not mistaken for a slow model.
    """

    def first_compile() -> None:
        if not _announced:
            _announced.append(True)
            (announce or compile_logger.info)(COMPILE_NOTICE)

    with watch_compilation(first_compile) as watch:
        start = time.perf_counter()
        yield lambda: round(max(time.perf_counter() - start - watch.seconds, 0.0), 3)


@contextlib.contextmanager
def threads_for(prepared: Prepared) -> Iterator[None]:
    """Setup's ``n_jobs`` threads (numba, BLAS and OpenMP); one for small data (``SMALL_DATA``)."""
    n_jobs = 1 if prepared.X.size < SMALL_DATA else prepared.options.runtime.threads
    if n_jobs == -1:  # every core: the default, nothing to limit
        yield
        return
    from threadpoolctl import threadpool_limits

    from clusterlab._config import effective_n_jobs, threads

    with threads(n_jobs), threadpool_limits(limits=effective_n_jobs(n_jobs)):  # OpenMP too
        yield
