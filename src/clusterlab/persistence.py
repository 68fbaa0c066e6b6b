"""Safe model files: loading never executes code from the file.

A clusterlab file is a zip archive of two members:

- ``clusterlab.json``: the format name, the format version, what the file holds (``model`` or
  ``experiment``), the SHA-256 of the payload and plain metadata (feature names, model ids,
  options, tables);
- ``payload.skops``: the fitted objects (scikit-learn pipeline, estimators, out-of-sample rules)
  written with :mod:`skops.io`, which stores object state as data and rebuilds objects without
  unpickling.

Loading checks, in order: the file is a zip with both members; the format name and version are
ours and not newer than this code; the payload's checksum matches (a file modified after it was
written is refused); and every type the payload would build is on the allowlist -- skops's own
trusted types, the classes of scikit-learn and of ``clusterlab.cluster``, the out-of-sample rules
and what the model registry's entries add (:func:`clusterlab.models.trusted_types`), and the few
preprocessing types listed in ``_PREPROCESSING_TYPES`` -- else the load is refused with the names
of the types it would not build.

The module deals in plain records: :class:`ClusterPipeline` for a model file;
:class:`SavedExperiment` and :class:`SavedModel` for an experiment file (the prepared state's
parts, the fitted-model records, and the k-selection results as their fields). It imports
nothing of the workflow: the workflow turns its state into these records and back.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import importlib
import io
import json
import logging
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "FORMAT_VERSION",
    "ClusterPipeline",
    "SavedExperiment",
    "SavedModel",
    "load_experiment_state",
    "load_model",
    "save_experiment_state",
    "save_pipeline",
]

FORMAT_NAME = "clusterlab"
FORMAT_VERSION = 1
_META = "clusterlab.json"
_PAYLOAD = "payload.skops"
_SUFFIX = ".clusterlab"

#: Types of the preprocessing pipeline a payload may hold besides scikit-learn's.
_PREPROCESSING_TYPES = frozenset(
    {
        "clusterlab.preprocessing.DateFeatures",
        "clusterlab.preprocessing.FrequencyEncoder",
        "clusterlab.preprocessing.CorrelationFilter",
        "clusterlab.preprocessing._to_object",
        "numpy.log1p",
        "numpy.dtype",
    }
)


def _trusted() -> frozenset[str]:
    """clusterlab types and functions a payload may hold (besides skops's defaults and the
    estimator classes of scikit-learn and clusterlab.cluster)."""
    from clusterlab.models import trusted_types
    from clusterlab.transformers import TRUSTED_TYPES

    return _PREPROCESSING_TYPES | TRUSTED_TYPES | trusted_types()


class ClusterPipeline:
    """Preprocessing and a fitted clustering model in one object: what :func:`load_model` returns.

    Parameters
    ----------
    pipeline : sklearn.pipeline.Pipeline
        The fitted preprocessing pipeline of ``setup``.
    features : list of str
        The input columns the pipeline reads.
    estimator : estimator
        The fitted clustering model.
    rule : object
        The fitted out-of-sample rule (see :func:`clusterlab.models.out_of_sample_rule`).
    model_id : str
        Registry id or class name.
    columns : list of str
        The columns of the data setup saw.
    serving : dict, optional
        What scoring new rows needs besides the pipeline (feature types, segment descriptions,
        the anomaly scorer: :func:`clusterlab.workflow.serving.serving_record`); plain values,
        lists, dicts and numpy arrays. None in files written before it was recorded.
    """

    def __init__(
        self,
        *,
        pipeline: Any,
        features: list[str],
        estimator: Any,
        rule: Any,
        model_id: str,
        columns: list[str],
        serving: dict[str, Any] | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.features = list(features)
        self.estimator = estimator
        self.rule = rule
        self.model_id = model_id
        self.columns = list(columns)
        self.serving = serving

    def __repr__(self) -> str:
        return f"ClusterPipeline(model_id={self.model_id!r}, estimator={self.estimator!r})"

    def transform(self, data: Any) -> pd.DataFrame:
        """The prepared features of ``data``."""
        from clusterlab.preprocessing import as_frame

        frame = as_frame(data)
        missing = [c for c in self.features if c not in frame.columns]
        if missing:
            raise ValueError(f"data lacks the feature columns {missing} the model was set up with")
        out = self.pipeline.transform(frame[self.features])
        out = out if isinstance(out, pd.DataFrame) else pd.DataFrame(out, index=frame.index)
        out.index = frame.index
        return out.astype("float64")

    def predict(self, data: Any) -> np.ndarray:
        """Cluster labels (int64, -1 = noise) for the rows of ``data``."""
        X = self.transform(data).to_numpy()
        return self.rule.predict(self.estimator, X)

    def predict_frame(self, data: Any, label_name: str = "Cluster") -> pd.DataFrame:
        """``data`` (its columns, index and order) plus the label column."""
        from clusterlab.preprocessing import as_frame

        frame = as_frame(data)
        out = frame.copy()
        out[label_name] = self.predict(frame)
        return out


# --------------------------------------------------------------------------------------------
# The container
# --------------------------------------------------------------------------------------------


def _with_suffix(path: Any) -> Path:
    p = Path(os.fspath(path))
    return p if p.suffix else p.with_suffix(_SUFFIX)


def _write(path: Any, kind: str, objects: dict[str, Any], meta: dict[str, Any]) -> Path:
    import skops.io as sio

    from clusterlab import __version__

    payload = sio.dumps(objects)
    header = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "kind": kind,
        "clusterlab_version": __version__,
        "written": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "payload_sha256": hashlib.sha256(payload).hexdigest(),
        "meta": meta,
    }
    target = _with_suffix(path)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(_META, json.dumps(header, indent=1))
        zf.writestr(_PAYLOAD, payload)
    target.write_bytes(buffer.getvalue())
    return target


def _allowed(type_name: str, trusted: frozenset[str]) -> bool:
    if type_name in trusted:
        return True
    if not type_name.startswith(("sklearn.", "clusterlab.cluster.")):
        return False
    module, _, attr = type_name.rpartition(".")
    try:
        obj = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError):
        return False
    # estimator classes hold state; functions (which a loaded object might call) are not trusted
    return isinstance(obj, type)


def _read(path: Any, kind: str) -> tuple[dict[str, Any], dict[str, Any]]:
    import skops.io as sio

    p = Path(os.fspath(path))
    if not p.exists():
        raise FileNotFoundError(f"model file {str(p)!r} does not exist")
    if not zipfile.is_zipfile(p):
        raise ValueError(f"{str(p)!r} is not a clusterlab file (not a zip archive)")
    with zipfile.ZipFile(p) as zf:
        names = set(zf.namelist())
        if not {_META, _PAYLOAD} <= names:
            raise ValueError(
                f"{str(p)!r} is not a clusterlab file (members {sorted(names)[:5]}, "
                f"expected {_META} and {_PAYLOAD})"
            )
        try:
            header = json.loads(zf.read(_META))
        except ValueError as exc:
            raise ValueError(f"{str(p)!r} has a damaged {_META}: {exc}") from exc
        payload = zf.read(_PAYLOAD)
    if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
        raise ValueError(f"{str(p)!r} is not a clusterlab file (format {header.get('format')!r})")
    version = header.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ValueError(
            f"{str(p)!r} has format version {version!r}; this clusterlab reads versions up to "
            f"{FORMAT_VERSION} (upgrade clusterlab)"
        )
    if header.get("kind") != kind:
        raise ValueError(f"{str(p)!r} holds a {header.get('kind')!r}, not a {kind!r}")
    if hashlib.sha256(payload).hexdigest() != header.get("payload_sha256"):
        raise ValueError(
            f"{str(p)!r} was modified after it was written (payload checksum mismatch); "
            "refusing to load it"
        )
    untrusted = sio.get_untrusted_types(data=payload)
    trusted = _trusted()
    refused = sorted(t for t in untrusted if not _allowed(t, trusted))
    if refused:
        raise ValueError(
            f"{str(p)!r} holds types that are not on clusterlab's allowlist: {refused}; "
            "refusing to load it"
        )
    objects = sio.loads(payload, trusted=list(untrusted))
    return header, objects


# --------------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------------


def _storable(estimator: Any, rule: Any) -> tuple[Any, Any]:
    """(estimator, rule) as they can be written: an estimator skops cannot store is replaced by
    ``None`` and the data-only rule its registry entry names, which predicts the same labels
    (Birch: its subcluster centres)."""
    from clusterlab.distributed._dispatch import without_lazy_results
    from clusterlab.models import entry_for

    estimator = without_lazy_results(estimator)  # a Dask fit's lazy labels_ are not the model
    if _storable_estimator(estimator):
        return estimator, rule
    entry = entry_for(estimator)
    if entry is None or entry.portable_rule is None:
        import skops.io as sio

        sio.dumps(estimator)  # raises skops's error naming the type it cannot store
    return None, entry.portable_rule().fit(estimator, None, None)


def _storable_estimator(estimator: Any) -> bool:
    import skops.io as sio
    from skops.io.exceptions import UnsupportedTypeException

    try:
        sio.dumps(estimator)
    except UnsupportedTypeException:
        return False
    return True


def save_pipeline(bundle: ClusterPipeline, path: Any) -> Path:
    """Write ``bundle`` to ``path`` (``.clusterlab`` added when it has no suffix); return the path.

    A model skops cannot store (Birch) is written as the data its predict uses; the loaded
    pipeline then has ``estimator=None`` and predicts the same labels.
    """
    estimator, rule = _storable(bundle.estimator, bundle.rule)
    objects = {"pipeline": bundle.pipeline, "estimator": estimator, "rule": rule}
    meta = {"model_id": bundle.model_id, "features": bundle.features, "columns": bundle.columns}
    if bundle.serving is not None:
        arrays: list[np.ndarray] = []
        meta["serving"] = _arrays_out(bundle.serving, arrays)
        objects["serving_arrays"] = arrays
    return _write(path, "model", objects, meta)


def _arrays_out(value: Any, arrays: list[np.ndarray]) -> Any:
    """``value`` as JSON, each numpy array replaced by its position in ``arrays``."""
    if isinstance(value, np.ndarray):
        arrays.append(value)
        return {"__array__": len(arrays) - 1}
    if isinstance(value, dict):
        return {str(k): _arrays_out(v, arrays) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_arrays_out(v, arrays) for v in value]
    return value


def _arrays_in(value: Any, arrays: list[Any]) -> Any:
    """The inverse of :func:`_arrays_out`."""
    if isinstance(value, dict):
        if set(value) == {"__array__"}:
            return np.asarray(arrays[value["__array__"]])
        return {k: _arrays_in(v, arrays) for k, v in value.items()}
    if isinstance(value, list):
        return [_arrays_in(v, arrays) for v in value]
    return value


def load_model(path: Any) -> ClusterPipeline:
    """Load a model file written by ``save_model``; no code from the file is executed.

    Raises
    ------
    ValueError
        When the file is not a clusterlab model, is of a newer format, was modified after it was
        written, or holds types outside the allowlist.

    Examples
    --------
    >>> import tempfile, os
    >>> from clusterlab import Experiment
    >>> from clusterlab.datasets import load_wholesale_customers
    >>> data = load_wholesale_customers()
    >>> exp = Experiment(data, normalize=True, session_id=0, verbose=False)
    >>> km = exp.create_model("kmeans", num_clusters=3)
    >>> path = exp.save_model(km, os.path.join(tempfile.mkdtemp(), "segments"))
    >>> loaded = load_model(path)
    >>> bool((loaded.predict(data) == exp.assign_model(km)["Cluster"].to_numpy()).all())
    True
    """
    header, objects = _read(path, "model")
    meta = header["meta"]
    serving = meta.get("serving")  # absent in files written before it was recorded
    return ClusterPipeline(
        pipeline=objects["pipeline"],
        features=meta["features"],
        estimator=objects["estimator"],
        rule=objects["rule"],
        model_id=meta["model_id"],
        columns=meta["columns"],
        serving=None if serving is None else _arrays_in(serving, objects["serving_arrays"]),
    )


# --------------------------------------------------------------------------------------------
# Experiments
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class SavedModel:
    """A fitted model as an experiment file holds it.

    ``selection`` is the position of its k-selection result in
    :attr:`SavedExperiment.selections` (results are stored once, shared by position).
    """

    model_id: str
    estimator: Any
    rule: Any
    labels: np.ndarray
    params: dict[str, Any]
    metrics: dict[str, Any]
    selection: int | None = None


@dataclass(frozen=True, eq=False)
class SavedExperiment:
    """An experiment as its file holds it: setup (its options and fitted preprocessor), the
    fitted models, and the k-selection results.

    ``selections`` are the results (dataclass instances) when saving, and each result's fields
    (a dict, tables as DataFrames) when loading; ``k_selection`` maps a model id to a position
    in ``selections``.
    """

    options: Any
    preprocessor: Any
    columns: list[str]
    n_rows: int
    models: list[SavedModel]
    selections: list[Any] = field(default_factory=list)
    k_selection: dict[str, int] = field(default_factory=dict)
    search_size: int = 2_000


def options_dict(options: Any) -> dict[str, Any]:
    """Setup options as ``setup`` takes them: flat option name -> plain JSON value (how files
    keep them; objects such as a custom pipeline are recorded as None: the fitted pipeline
    holds them)."""
    return options.to_record()


def save_experiment_state(path: Any, state: SavedExperiment) -> Path:
    """Write setup (options, fitted pipeline, which rows trained), the fitted models and the
    k-selection results. A model skops cannot store is left out with a warning."""
    pre = state.preprocessor
    models = [m for m in state.models if _kept(m)]
    encoded = [_encode_selection(s) for s in state.selections]
    objects = {
        "pipeline": pre.pipeline_,
        "train_mask": np.asarray(pre.train_mask_, dtype=bool),
        "estimators": [m.estimator for m in models],
        "rules": [m.rule for m in models],
        "labels": [np.asarray(m.labels) for m in models],
        "selection_arrays": [arrays for _, arrays in encoded],
    }
    meta = {
        "options": options_dict(state.options),
        "features": list(pre.features_),
        "columns": list(state.columns),
        "n_rows": state.n_rows,
        "schema": pre.schema_.reset_index().astype(str).to_dict(orient="list"),
        "dropped": {str(k): str(v) for k, v in pre.dropped_.items()},
        "models": [
            {
                "model_id": m.model_id,
                "params": {k: _safe(v) for k, v in m.params.items()},
                "metrics": {k: _safe(v) for k, v in m.metrics.items()},
                "selection": m.selection,
            }
            for m in models
        ],
        "selections": [fields for fields, _ in encoded],
        "k_selection": dict(state.k_selection),
        "search_size": state.search_size,
    }
    return _write(path, "experiment", objects, meta)


def _kept(model: SavedModel) -> bool:
    if _storable_estimator(model.estimator):
        return True
    logging.getLogger(__name__).warning(
        "model %r cannot be stored in an experiment file and is left out (save it with save_model)",
        model.model_id,
    )
    return False


def _encode_selection(result: Any) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """A result dataclass as JSON fields (tables as columns) and its arrays (for the payload)."""
    fields: dict[str, Any] = {}
    arrays: dict[str, np.ndarray] = {}
    for f in dataclasses.fields(result):
        value = getattr(result, f.name)
        if isinstance(value, np.ndarray):
            arrays[f.name] = value
        elif isinstance(value, pd.DataFrame):
            fields[f.name] = {
                "__table__": True,
                "index": [_safe(i) for i in value.index],
                "index_name": value.index.name,
                "columns": {str(c): [_safe(v) for v in value[c]] for c in value.columns},
            }
        elif isinstance(value, dict):
            fields[f.name] = {str(k): _safe(v) for k, v in value.items()}
        elif isinstance(value, list | tuple):
            fields[f.name] = [_safe(v) for v in value]
        else:
            fields[f.name] = _safe(value)
    return fields, arrays


def _decode_selection(fields: dict[str, Any], arrays: dict[str, Any]) -> dict[str, Any]:
    """The fields of a stored result: tables as DataFrames, arrays from the payload."""
    decoded: dict[str, Any] = dict(arrays)
    for name, value in fields.items():
        if isinstance(value, dict) and value.get("__table__"):
            table = pd.DataFrame(value["columns"], index=value["index"])
            table.index.name = value["index_name"]
            decoded[name] = table
        else:
            decoded[name] = value
    return decoded


def _safe(value: Any) -> Any:
    if isinstance(value, bool | str | type(None) | int | float):
        return value
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return repr(value)


def load_experiment_state(path: Any, data: pd.DataFrame) -> SavedExperiment:
    """Read an experiment file written for ``data`` (the data setup saw); nothing is refitted.

    Files written before k-selection results were kept have none.
    """
    header, objects = _read(path, "experiment")
    meta = header["meta"]
    if [str(c) for c in data.columns] != meta["columns"] or len(data) != meta["n_rows"]:
        raise ValueError(
            f"data does not match the saved experiment: it was set up on {meta['n_rows']} rows "
            f"with columns {meta['columns']}; got {len(data)} rows with {list(data.columns)}"
        )
    models = [
        SavedModel(
            info["model_id"],
            est,
            rule,
            np.asarray(labels, dtype=np.int64),
            info["params"],
            info["metrics"],
            info.get("selection"),
        )
        for info, est, rule, labels in zip(
            meta["models"], objects["estimators"], objects["rules"], objects["labels"], strict=True
        )
    ]
    selections = [
        _decode_selection(fields, arrays)
        for fields, arrays in zip(
            meta.get("selections", []), objects.get("selection_arrays", []), strict=True
        )
    ]
    preprocessor = _restore_preprocessor(meta, objects, data)
    return SavedExperiment(
        preprocessor.options,
        preprocessor,
        meta["columns"],
        meta["n_rows"],
        models,
        selections,
        dict(meta.get("k_selection", {})),
        meta["search_size"],
    )


def _restore_preprocessor(meta: dict[str, Any], objects: dict[str, Any], data: pd.DataFrame) -> Any:
    from clusterlab.preprocessing import Preprocessor, SetupOptions

    train_mask = np.asarray(objects["train_mask"], dtype=bool)
    reasons = pd.Series(pd.NA, index=data.index, dtype=object)
    for pos, reason in meta["dropped"].items():
        reasons.loc[data.index[data.index.astype(str) == pos]] = reason
    return Preprocessor.restore(
        SetupOptions.parse(**meta["options"]),
        schema=pd.DataFrame(meta["schema"]).set_index("column"),
        features=meta["features"],
        pipeline=objects["pipeline"],
        train_mask=train_mask,
        dropped=reasons[~train_mask],
    )
