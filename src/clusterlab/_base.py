"""Small pieces shared by every estimator."""

from __future__ import annotations

from typing import Any, ClassVar

from clusterlab._validation import validate_params

#: Label of points that belong to no cluster, in every estimator and every result.
NOISE = -1


class ParamsMixin:
    """Declarative parameter validation for an estimator.

    Subclasses list ``_parameter_constraints = {"name": [Interval(...), Options(...), ...]}``;
    ``fit`` calls ``self._validate_params()`` first, which never changes a parameter.
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {}

    def _validate_params(self) -> None:
        validate_params(
            self.get_params(deep=False),  # type: ignore[attr-defined]
            self._parameter_constraints,
            caller=type(self).__name__,
        )
