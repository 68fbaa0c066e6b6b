"""The request schema, built from the model's feature specs: validation and the OpenAPI schema.

A request body is one JSON object (one row) or an array of at least one and at most ``max_rows``
objects. Each object has exactly the model's feature columns (a column setup saw but did not use,
such as a customer id, is accepted and ignored; any other column is an error), each of its JSON
type: a finite number for numeric columns (``NaN`` and ``Infinity`` are refused), a string, an
integer or a boolean for categorical columns as in training, a date-time string for date columns;
above -1 for the columns the model log-transforms.
``null`` is accepted only where the model fills missing values.

Validation is pydantic's, on the raw body (one pass, no intermediate objects); an error names the
row and the column (``loc: ["body", 3, "Fresh"]``), in FastAPI's 422 format.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import ConfigDict, Field, TypeAdapter, ValidationError
from typing_extensions import NotRequired, TypedDict

from clusterlab.serve.model import Feature

__all__ = ["RecordSchema", "RequestError"]

_JSON_TYPES: dict[str, Any] = {
    "number": float,
    "integer": int,
    "string": str,
    "boolean": bool,
    "any": float | int | bool | str,
}
_CONFIG = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class RequestError(Exception):
    """A request the service refuses with 422; ``errors`` in FastAPI's format."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors[0]["msg"] if errors else "invalid request")
        self.errors = errors


class RecordSchema:
    """Validates request bodies against the model's features.

    Parameters
    ----------
    features : sequence of Feature
    ignored : sequence of str
        Columns accepted in a record and ignored (setup saw them but the model does not use them).
    max_rows : int
        Most rows one request may hold.
    """

    def __init__(self, features: Sequence[Feature], ignored: Sequence[str], max_rows: int) -> None:
        self.features = list(features)
        self.max_rows = int(max_rows)
        fields = {f.name: _field(f) for f in self.features}
        for name in ignored:
            fields.setdefault(name, NotRequired[Annotated[Any, Field(description="ignored")]])
        record = TypedDict("Record", fields)  # type: ignore[misc]
        record.__pydantic_config__ = _CONFIG  # type: ignore[attr-defined]
        self._names = [f.name for f in self.features]
        self.record_type = record
        self._one = TypeAdapter(record)
        self._many = TypeAdapter(
            Annotated[list[record], Field(min_length=1, max_length=self.max_rows)]  # type: ignore[valid-type]
        )

    def validate(self, body: bytes) -> dict[str, list[Any]]:
        """The body's rows as columns (feature name -> values); raises :class:`RequestError`."""
        start = body.lstrip()[:1]
        if start == b"[":
            rows = self._validated(self._many, body)
        elif start == b"{":
            rows = [self._validated(self._one, body)]
        else:
            raise RequestError(
                [
                    _error(
                        "model_type", ("body",), "send one JSON object (a row) or an array of them"
                    )
                ]
            )
        return {name: [row[name] for row in rows] for name in self._names}

    def _validated(self, adapter: TypeAdapter, body: bytes) -> Any:
        try:
            return adapter.validate_json(body)
        except ValidationError as exc:
            raise RequestError(_errors(exc, ("body",), self.max_rows)) from None

    def json_schema(self, ref_template: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """The request body's schema and the component schemas it refers to."""
        record = self._one.json_schema(ref_template=ref_template)
        name = "Record"
        body = {
            "anyOf": [
                {"$ref": ref_template.format(model=name)},
                {
                    "type": "array",
                    "items": {"$ref": ref_template.format(model=name)},
                    "minItems": 1,
                    "maxItems": self.max_rows,
                },
            ]
        }
        return body, {name: record}


def _field(feature: Feature) -> Any:
    kind = _JSON_TYPES.get(feature.type, _JSON_TYPES["any"])
    if feature.kind == "date" and feature.dtype.startswith("datetime64"):
        kind = _dt.datetime
    if feature.nullable:
        kind = kind | None
    text = f"{feature.kind} column (training dtype {feature.dtype})"
    text += "; null: the model fills it" if feature.nullable else "; null not allowed"
    extra: dict[str, Any] = {}
    if feature.exclusive_minimum is not None and feature.type == "number":
        extra["gt"] = feature.exclusive_minimum
        text += f"; above {feature.exclusive_minimum:g} (the model takes its logarithm)"
    if feature.categories is not None:
        extra["examples"] = list(feature.categories[:20])
        text += f"; categories seen in training: {len(feature.categories)}"
    return Annotated[kind, Field(description=text, **extra)]


def _error(kind: str, loc: tuple[Any, ...], msg: str) -> dict[str, Any]:
    return {"type": kind, "loc": list(loc), "msg": msg}


def _errors(exc: ValidationError, prefix: tuple[Any, ...], max_rows: int) -> list[dict[str, Any]]:
    out = []
    for error in exc.errors(include_url=False, include_context=False):
        loc = (*prefix, *error["loc"])
        msg = error["msg"]
        if error["type"] == "too_long" and len(error["loc"]) == 0:
            msg = f"at most {max_rows} rows per request"
        elif error["type"] == "too_short" and len(error["loc"]) == 0:
            msg = "send at least one row"
        item = _error(error["type"], loc, msg)
        if "input" in error and error["type"] not in ("too_long", "json_invalid"):
            item["input"] = _short(error["input"])
        out.append(item)
    return out


def _short(value: Any) -> Any:
    """An offending input as the error shows it: scalars as they are, containers summarised."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, str):
        return value if len(value) <= 80 else value[:77] + "..."
    if isinstance(value, dict | list):
        return f"<{type(value).__name__} of {len(value)}>"
    return value
