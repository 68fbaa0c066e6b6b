"""get_config / set_config: the setup variables an experiment exposes and the ones it lets
change."""

from __future__ import annotations

import numbers
from typing import Any

from clusterlab.preprocessing import SetupOptions
from clusterlab.workflow.prepared import Prepared

__all__ = ["CONFIG_NAMES", "SETTABLE", "check_setting", "config_value"]

CONFIG_NAMES = (
    "data",
    "X",
    "X_transformed",
    "X_all",
    "y",
    "pipeline",
    "schema",
    "train_mask",
    "dropped",
    "session_id",
    "seed",
    "sample_size",
    "search_size",
    "verbose",
    "options",
    "k_selection",
)
SETTABLE = ("session_id", "seed", "sample_size", "search_size", "verbose")
#: The smallest search_size (rows of the samples compare and tune estimate from).
MIN_SEARCH_SIZE = 50


def config_value(
    variable: str, prepared: Prepared | None, *, search_size: int, k_selection: dict
) -> Any:
    """The value of one variable of :data:`CONFIG_NAMES` (see ``Experiment.get_config``)."""
    if variable not in CONFIG_NAMES:
        raise ValueError(f"variable must be one of {CONFIG_NAMES}; got {variable!r}")
    if variable == "search_size":
        return search_size
    if prepared is None:
        raise RuntimeError("run setup(data, ...) first: this experiment has no data yet")
    pre, options = prepared.preprocessor, prepared.options
    values = {
        "data": lambda: prepared.data,
        "X": lambda: prepared.X,
        "X_transformed": lambda: prepared.X,
        "X_all": lambda: prepared.X_all,
        "y": lambda: prepared.y,
        "pipeline": lambda: pre.pipeline_,
        "schema": lambda: pre.schema_,
        "train_mask": pre.train_mask_.copy,
        "dropped": lambda: pre.dropped_,
        "session_id": lambda: options.session_id,
        "seed": lambda: options.session_id,
        "sample_size": lambda: options.sample_size,
        "verbose": lambda: options.verbose,
        "options": lambda: options,
        "k_selection": lambda: dict(k_selection),
    }
    return values[variable]()


def check_setting(variable: str, value: Any) -> tuple[str, Any]:
    """(name, value) to set for ``set_config(variable, value)``, checked; ``seed`` is
    ``session_id``."""
    if variable not in SETTABLE:
        raise ValueError(f"variable must be one of {SETTABLE}; got {variable!r}")
    if variable == "search_size":
        if (
            isinstance(value, bool)
            or not isinstance(value, numbers.Integral)
            or value < MIN_SEARCH_SIZE
        ):
            raise ValueError(f"search_size must be an int >= {MIN_SEARCH_SIZE}; got {value!r}")
        return variable, int(value)
    name = "session_id" if variable == "seed" else variable
    if name == "verbose":
        return name, bool(value)
    SetupOptions.parse(**{name: value})  # validates
    return name, value
