"""get_config / set_config: the setup variables an experiment exposes and the ones it lets
change.

PyCaret 3's names have PyCaret's meaning; rows left out of training by setup
(``remove_outliers``, ``numeric_imputation='drop'``) are the one difference, as PyCaret has no
such rows after setup:

=======================  ===================================================================
name                     value
=======================  ===================================================================
``data``                 the data setup works on (``index`` applied), every column
``dataset``              ``data`` without the ``ignore_features`` columns
``X``                    the raw feature columns of every row (the columns the pipeline reads)
``train``, ``X_train``   ``dataset`` and ``X`` on the training rows
``X_train_transformed``  the prepared features of the training rows: what models are fitted on
                         (also ``X_transformed``, ``train_transformed``)
``dataset_transformed``  the prepared features of every row (also ``X_all``)
``pipeline``             the fitted scikit-learn preprocessing pipeline
``seed``                 setup's ``session_id`` (drawn by setup when not given, as PyCaret does)
``USI``                  this experiment's unique session id (4 hex digits)
``n_jobs_param``         setup's ``n_jobs``; ``gpu_param``, ``gpu_n_jobs_param``, ``html_param``,
                         ``memory``, ``log_plots_param``, ``exp_name_log``: the options as given
``logging_param``,       False and None: no experiment logger is built in
``exp_id``
=======================  ===================================================================

clusterlab's own: ``X_all``, ``y`` (ground truth of the training rows), ``schema``,
``train_mask``, ``dropped`` (why rows were left out), ``session_id``, ``sample_size``,
``search_size``, ``verbose``, ``options``, ``k_selection``, ``label_format``.
"""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Callable
from typing import Any

from clusterlab.preprocessing import SetupOptions
from clusterlab.workflow.prepared import Prepared

__all__ = [
    "CONFIG_NAMES",
    "DEFAULT_EXPERIMENT_NAME",
    "SETTABLE",
    "check_setting",
    "config_value",
    "with_setting",
]

#: PyCaret's experiment name when setup was given none.
DEFAULT_EXPERIMENT_NAME = "cluster-default-name"

PYCARET_NAMES = (
    "data",
    "dataset",
    "X",
    "train",
    "X_train",
    "X_transformed",
    "X_train_transformed",
    "train_transformed",
    "dataset_transformed",
    "pipeline",
    "seed",
    "USI",
    "n_jobs_param",
    "gpu_param",
    "gpu_n_jobs_param",
    "html_param",
    "memory",
    "exp_name_log",
    "exp_id",
    "logging_param",
    "log_plots_param",
)
CONFIG_NAMES = (
    *PYCARET_NAMES,
    "X_all",
    "y",
    "schema",
    "train_mask",
    "dropped",
    "session_id",
    "sample_size",
    "search_size",
    "verbose",
    "options",
    "k_selection",
    "label_format",
)
SETTABLE = (
    "session_id",
    "seed",
    "sample_size",
    "search_size",
    "verbose",
    "n_jobs_param",
    "exp_name_log",
)
#: The smallest search_size (rows of the samples compare and tune estimate from).
MIN_SEARCH_SIZE = 50


def _values(prepared: Prepared) -> dict[str, Callable[[], Any]]:
    """The setup variables of ``prepared``, computed on demand."""
    pre, options, data = prepared.preprocessor, prepared.options, prepared.data
    ignored = [c for c in options.columns.ignore_features if c in data.columns]

    def dataset() -> Any:
        return data.drop(columns=ignored)

    n_jobs = options.runtime.n_jobs
    return {
        "data": lambda: data,
        "dataset": dataset,
        "X": lambda: data[prepared.features],
        "train": lambda: dataset().loc[prepared.train_mask],
        "X_train": lambda: prepared.train_data[prepared.features],
        "X_transformed": lambda: prepared.X,
        "X_train_transformed": lambda: prepared.X,
        "train_transformed": lambda: prepared.X,
        "dataset_transformed": lambda: prepared.X_all,
        "X_all": lambda: prepared.X_all,
        "y": lambda: prepared.y,
        "pipeline": lambda: pre.pipeline_,
        "schema": lambda: pre.schema_,
        "train_mask": pre.train_mask_.copy,
        "dropped": lambda: pre.dropped_,
        "seed": lambda: options.session_id,
        "session_id": lambda: options.session_id,
        "sample_size": lambda: options.sample_size,
        "verbose": lambda: options.verbose,
        "options": lambda: options,
        "n_jobs_param": lambda: n_jobs,
        "gpu_param": lambda: options.runtime.use_gpu,
        "gpu_n_jobs_param": lambda: n_jobs,
        "html_param": lambda: options.compat.html,
        "memory": lambda: options.pipeline.memory,
        "exp_name_log": lambda: options.compat.experiment_name or DEFAULT_EXPERIMENT_NAME,
        "exp_id": lambda: None,
        "logging_param": lambda: False,
        "log_plots_param": lambda: options.compat.log_plots,
    }


def config_value(
    variable: str, prepared: Prepared | None, *, search_size: int, experiment: dict[str, Any]
) -> Any:
    """The value of one variable of :data:`CONFIG_NAMES` (see ``Experiment.get_config``);
    ``experiment`` holds the experiment's own: ``USI``, ``label_format``, ``k_selection``."""
    if variable not in CONFIG_NAMES:
        raise ValueError(f"variable must be one of {CONFIG_NAMES}; got {variable!r}")
    if variable == "search_size":
        return search_size
    if variable in experiment:
        return experiment[variable]
    if prepared is None:
        raise RuntimeError("run setup(data, ...) first: this experiment has no data yet")
    return _values(prepared)[variable]()


def check_setting(variable: str, value: Any) -> tuple[str, Any]:
    """(name, value) to set for ``set_config(variable, value)``, checked: ``seed`` is
    ``session_id``, ``n_jobs_param`` setup's ``n_jobs``, ``exp_name_log`` its
    ``experiment_name``."""
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
    name = {"seed": "session_id", "n_jobs_param": "n_jobs", "exp_name_log": "experiment_name"}.get(
        variable, variable
    )
    if name == "verbose":
        return name, bool(value)
    SetupOptions.parse(**{name: value})  # validates
    return name, value


def with_setting(prepared: Prepared, name: str, value: Any) -> Prepared:
    """``prepared`` with one option changed: a top-level one, or ``n_jobs`` /
    ``experiment_name`` in their group."""
    groups = {"n_jobs": "runtime", "experiment_name": "compat"}
    if name not in groups:
        return prepared.with_option(name, value)
    group = getattr(prepared.options, groups[name])
    options = dataclasses.replace(
        prepared.options, **{groups[name]: dataclasses.replace(group, **{name: value})}
    )
    return dataclasses.replace(prepared, options=options)
