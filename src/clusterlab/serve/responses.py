"""The service's answers as pydantic models: their OpenAPI schema (``/predict``'s answer is
written directly, for speed, in exactly this shape)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

__all__ = ["Health", "ModelInfo", "PredictResponse", "Prediction"]


class Prediction(BaseModel):
    """One row's answer."""

    segment: int = Field(description="segment id; -1 is noise (the row belongs to no segment)")
    description: str | None = Field(
        description="what sets the segment apart (null when the model file does not record it)"
    )
    anomaly_score: float | None = Field(
        description="0-1; above 0.5 the row lies more than three robust standard deviations out"
    )
    is_anomaly: bool | None = Field(description="anomaly_score > 0.5")


class PredictResponse(BaseModel):
    model_id: str
    predictions: list[Prediction] = Field(description="one per row, in the order sent")


class FileInfo(BaseModel):
    name: str
    sha256: str = Field(description="SHA-256 of the model file's bytes")


class FeatureInfo(BaseModel):
    name: str
    kind: str = Field(description="numeric, categorical, ordinal, date, text (unknown: old file)")
    type: str = Field(description="JSON type accepted: number, integer, string, boolean, any")
    dtype: str = Field(description="the training column's dtype")
    nullable: bool = Field(description="whether null is accepted (the model fills it)")
    categories: list[Any] | None = None
    exclusive_minimum: float | None = Field(
        default=None, description="values must be above it (columns the model log-transforms)"
    )


class SegmentInfo(BaseModel):
    segment: int
    size: int = Field(description="training rows in the segment")
    share: float
    description: str


class AnomalyInfo(BaseModel):
    measure: str
    threshold: float


class ModelInfo(BaseModel):
    model_id: str
    file: FileInfo
    features: list[FeatureInfo]
    ignored_columns: list[str] = Field(description="accepted in a row and ignored")
    segments: list[SegmentInfo] | None
    anomaly_score: AnomalyInfo | None
    clusterlab_version: str


class Health(BaseModel):
    status: str
    model_id: str
    sha256: str
    pid: int
    uptime_seconds: float
    requests: int = Field(description="/predict requests since the start")
    rejected: int = Field(description="of which answered 413 or 422")
