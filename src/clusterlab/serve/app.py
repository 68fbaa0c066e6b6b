"""The FastAPI application: ``POST /predict``, ``GET /model``, ``GET /health``.

The application holds one :class:`~clusterlab.serve.model.ServedModel`, loaded before the first
request; no route takes a path or names a file, so no request can make the service read or write
one. Bad input is answered 422 in FastAPI's format (see :mod:`clusterlab.serve.schema`), a body
larger than the limit 413; an unexpected failure is a 500 for that request only.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

import numpy as np
from fastapi import Request
from fastapi.responses import JSONResponse, Response

from clusterlab.serve.model import ServedModel
from clusterlab.serve.schema import RecordSchema, RequestError

__all__ = ["DEFAULT_MAX_ROWS", "create_app"]

logger = logging.getLogger("clusterlab.serve")

#: Most rows one request may hold, unless told otherwise.
DEFAULT_MAX_ROWS = 10_000
#: Bytes allowed per row and per feature of a row when bounding a request body.
_BYTES_PER_ROW, _BYTES_PER_VALUE = 256, 128
_REF = "#/components/schemas/{model}"


def create_app(
    model: ServedModel | str | os.PathLike[str],
    *,
    max_rows: int = DEFAULT_MAX_ROWS,
    max_body_bytes: int | None = None,
) -> Any:
    """The scoring service of a model file, as a FastAPI application.

    Parameters
    ----------
    model : ServedModel or path
        The model, or the model file to load (with the safe loader).
    max_rows : int, default 10_000
        Most rows per request (more is a 422).
    max_body_bytes : int, optional
        Largest request body (more is a 413); by default ``max_rows`` rows of generous size.

    Returns
    -------
    fastapi.FastAPI
        Serve it with uvicorn (``clusterlab serve`` does), or test it with
        ``fastapi.testclient.TestClient``.

    Examples
    --------
    >>> import os, tempfile
    >>> from fastapi.testclient import TestClient
    >>> from clusterlab import Experiment
    >>> from clusterlab.datasets import load_wholesale_customers
    >>> data = load_wholesale_customers().drop(columns=["Channel", "Region"])
    >>> exp = Experiment(data, normalize=True, session_id=0, verbose=False)
    >>> path = exp.save_model(exp.create_model("kmeans", num_clusters=3),
    ...                       os.path.join(tempfile.mkdtemp(), "m"))
    >>> client = TestClient(create_app(path))
    >>> answer = client.post("/predict", json=data.iloc[0].to_dict()).json()
    >>> sorted(answer["predictions"][0])
    ['anomaly_score', 'description', 'is_anomaly', 'segment']
    >>> client.post("/predict", json={"Milk": 1}).status_code
    422
    """
    import fastapi

    served = model if isinstance(model, ServedModel) else ServedModel(model)
    if isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 1:
        raise ValueError(f"max_rows must be an int >= 1; got {max_rows!r}")
    schema = RecordSchema(served.features, served.ignored, max_rows)
    limit = max_body_bytes or max_rows * (_BYTES_PER_ROW + _BYTES_PER_VALUE * len(served.features))
    app = fastapi.FastAPI(
        title=f"clusterlab scoring service: {served.model_id}",
        version=_version(),
        description=_description(served, max_rows),
    )
    state = {"started": time.time(), "requests": 0, "rejected": 0}
    _routes(app, served, schema, limit, state)
    _openapi(app, schema)
    return app


def _version() -> str:
    from clusterlab import __version__

    return __version__


def _description(served: ServedModel, max_rows: int) -> str:
    return (
        f"Segments new rows with the `{served.model_id}` model of `{served.path.name}` "
        f"(SHA-256 {served.sha256[:16]}...). `POST /predict` takes one JSON object or an array of "
        f"up to {max_rows:,} objects with the model's feature columns and answers each row's "
        "segment (-1 = noise), its description and its anomaly score (0-1, above 0.5 an anomaly)."
    )


def _routes(app: Any, served: ServedModel, schema: RecordSchema, limit: int, state: dict) -> None:
    from clusterlab.serve.responses import Health, ModelInfo, PredictResponse

    responses = {
        200: {"model": PredictResponse},
        413: {"description": "body too large"},
        422: {"description": "invalid rows: each error names the row and the column"},
    }

    @app.post(
        "/predict",
        summary="Segment and score rows",
        response_model=None,
        responses=responses,
    )
    async def predict(request: Request) -> Response:
        state["requests"] += 1
        body = await _body(request, limit)
        if body is None:
            state["rejected"] += 1
            return JSONResponse({"detail": f"request body larger than {limit:,} bytes"}, 413)
        try:
            columns = schema.validate(body)
            labels, scores = _scored(served, columns)
        except RequestError as exc:
            state["rejected"] += 1
            return JSONResponse({"detail": exc.errors}, 422)
        content = _predictions(served, labels, scores)
        return Response(content=content, media_type="application/json")

    @app.get("/model", summary="The model: features, segments, checksum", response_model=ModelInfo)
    async def model() -> dict[str, Any]:
        return served.describe()

    @app.get("/health", summary="Liveness", response_model=Health)
    async def health() -> dict[str, Any]:
        return {
            "status": "ok",
            "model_id": served.model_id,
            "sha256": served.sha256,
            "pid": os.getpid(),
            "uptime_seconds": round(time.time() - state["started"], 3),
            "requests": state["requests"],
            "rejected": state["rejected"],
        }


async def _body(request: Any, limit: int) -> bytes | None:
    """The request body, or None once it exceeds ``limit`` bytes (never read further)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    parts, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        parts.append(chunk)
    return b"".join(parts)


def _scored(served: ServedModel, columns: dict[str, list[Any]]) -> tuple[np.ndarray, Any]:
    """Labels and scores of validated rows; the model's own refusal of a value is a 422."""
    try:
        return served.score(columns)
    except ValueError as exc:
        raise RequestError([{"type": "value_error", "loc": ["body"], "msg": str(exc)}]) from None


def _predictions(served: ServedModel, labels: np.ndarray, scores: np.ndarray | None) -> bytes:
    """The response body: each row's segment, description, anomaly score and flag (JSON encoded
    by pydantic's serializer, a tenth of the standard library's time for a batch)."""
    from pydantic_core import to_json

    from clusterlab.insight import THRESHOLD

    segments = labels.tolist()
    n = len(segments)
    descriptions = served.descriptions
    text = (
        {s: descriptions.get(s, "noise" if s == -1 else None) for s in set(segments)}
        if descriptions
        else {}
    )
    if scores is None:
        values: list[Any] = [None] * n
        flags: list[Any] = [None] * n
    else:
        finite = np.isfinite(scores).tolist()
        values = [v if ok else None for v, ok in zip(scores.tolist(), finite, strict=True)]
        flags = (scores > THRESHOLD).tolist()
    rows = [
        {"segment": s, "description": text.get(s), "anomaly_score": v, "is_anomaly": f}
        for s, v, f in zip(segments, values, flags, strict=True)
    ]
    return to_json({"model_id": served.model_id, "predictions": rows})


def _openapi(app: Any, schema: RecordSchema) -> None:
    """The request body of /predict in the OpenAPI document, from the model's features."""
    from fastapi.openapi.utils import get_openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        body, components = schema.json_schema(_REF)
        document.setdefault("components", {}).setdefault("schemas", {}).update(components)
        document["paths"]["/predict"]["post"]["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": body}},
        }
        app.openapi_schema = document
        return document

    app.openapi = openapi
