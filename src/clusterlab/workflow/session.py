"""The state an :class:`~clusterlab.workflow.Experiment` holds, and the helpers its methods share.

:class:`Session` is the base of the experiment's method groups (:mod:`.setup_methods`,
:mod:`.metric_methods`, :mod:`.insight_methods`, :mod:`.file_methods` and the modelling methods
of :mod:`.experiment`): the prepared data, the fitted models, the metrics, the tables shown,
PyCaret's setup variables as properties, and how the methods show tables and messages.
"""

from __future__ import annotations

import logging
import numbers
import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from clusterlab.workflow.display import message, show
from clusterlab.workflow.fitting import compile_logger
from clusterlab.workflow.prepared import Prepared
from clusterlab.workflow.records import FittedModel
from clusterlab.workflow.scoring import MetricSet

if TYPE_CHECKING:
    from clusterlab.workflow.compare import Leaderboard
    from clusterlab.workflow.tune import TuneResult

__all__ = ["SEARCH_SIZE", "Session", "check_bool", "check_int", "check_mapping", "unused_options"]

logger = logging.getLogger(__name__)

#: Rows of the sample on which compare_models and tune_model estimate from the data.
SEARCH_SIZE = 2_000


def check_bool(name: str, value: Any) -> None:
    """``value`` must be True or False (PyCaret's flags are never truthy objects)."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False; got {value!r}")


def check_int(name: str, value: Any, low: int) -> None:
    """``value`` must be an int (not a bool) of at least ``low``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{name} must be an int >= {low}; got {value!r}")


def check_mapping(name: str, value: Any) -> None:
    """``value`` must be None or a dict."""
    if value is not None and not isinstance(value, Mapping):
        raise TypeError(f"{name} must be None or a dict; got {value!r}")


def unused_options(function: str, what: str, options: Mapping[str, Any]) -> None:
    """Say once, in one line, that PyCaret options for a library clusterlab does not use have
    no effect (they are accepted so that PyCaret scripts run)."""
    if options:
        logger.warning(
            "%s: %s are %s options and have no effect in clusterlab",
            function,
            ", ".join(sorted(options)),
            what,
        )


def _pycaret_variable(name: str, doc: str) -> property:
    return property(lambda self: self.get_config(name), doc=doc)


class Session:
    """What an experiment holds between calls, and how its methods show what they did.

    The PyCaret variables read ``get_config``, which
    :class:`~clusterlab.workflow.setup_methods.SetupMethods` defines.
    """

    #: How assign_model and predict_model write labels when setup's ``label_format`` is None.
    default_label_format = "integer"

    def __init__(self) -> None:
        self._metrics = MetricSet()
        self._fitted: dict[int, FittedModel] = {}
        self._k_selection: dict[str, Any] = {}
        self._shown: list[Any] = []  # PyCaret's display container: tables or results
        self._prepared: Prepared | None = None
        self._usi = secrets.token_hex(2)
        self._dask: Any = None  # the Dask DataFrame setup got, when it got one
        self.search_size = SEARCH_SIZE
        self.leaderboard_: Leaderboard | None = None
        self.tune_result_: TuneResult | None = None

    def _state(self, ground_truth: str | None = None) -> Prepared:
        if self._prepared is None:
            raise RuntimeError("run setup(data, ...) first: this experiment has no data yet")
        return self._prepared.with_ground_truth(ground_truth)

    options = property(lambda self: self._state().options, doc="The setup options, grouped.")
    data_ = property(lambda self: self._state().data, doc="The data as given to setup.")
    X_ = property(lambda self: self._state().X, doc="Prepared features of the training rows.")
    X_all_ = property(lambda self: self._state().X_all, doc="Prepared features of every row.")
    y_ = property(lambda self: self._state().y, doc="Ground truth of the training rows.")
    data = _pycaret_variable("data", "The data setup works on (PyCaret's ``data``).")
    dataset = _pycaret_variable("dataset", "``data`` without the ignored columns.")
    X = _pycaret_variable("X", "The raw feature columns of every row.")
    X_train = _pycaret_variable("X_train", "The raw feature columns of the training rows.")
    train = _pycaret_variable("train", "``dataset`` on the training rows.")
    X_transformed = _pycaret_variable("X_transformed", "Prepared features of the training rows.")
    X_train_transformed = _pycaret_variable(
        "X_train_transformed", "Prepared features of the training rows."
    )
    train_transformed = _pycaret_variable(
        "train_transformed", "Prepared features of the training rows."
    )
    dataset_transformed = _pycaret_variable(
        "dataset_transformed", "Prepared features of every row."
    )
    pipeline = _pycaret_variable("pipeline", "The fitted preprocessing pipeline.")
    seed = _pycaret_variable("seed", "The session seed (setup's ``session_id``).")
    USI = _pycaret_variable("USI", "This experiment's unique session id.")
    n_jobs_param = _pycaret_variable("n_jobs_param", "setup's ``n_jobs``.")
    exp_name_log = _pycaret_variable("exp_name_log", "The experiment's name.")

    @property
    def verbose(self) -> bool:
        return bool(self._prepared is not None and self._prepared.options.verbose)

    @property
    def label_format(self) -> str:
        """How labels are written: setup's ``label_format``, else :attr:`default_label_format`."""
        given = None if self._prepared is None else self._prepared.options.label_format
        return given or self.default_label_format

    def _verbose(self, verbose: bool | None) -> bool:
        return self.verbose if verbose is None else bool(verbose)

    def _show(self, frame: pd.DataFrame, title: str, verbose: bool | None = None) -> None:
        if self._verbose(verbose):
            show(frame, title)

    def _message(self, text: str, verbose: bool | None = None) -> None:
        if self._verbose(verbose):
            message(text)
        else:
            logger.info(text)

    def _announce(self, text: str) -> None:
        """The one-line notice that numba kernels are compiling."""
        if self.verbose:
            message(text)
        else:
            compile_logger.info(text)

    def _tools(self) -> dict[str, Any]:
        """What fitting needs besides the data: the metrics and the search size."""
        return {"metrics": self._metrics, "search_size": self.search_size}

    def _keep(self, shown: Any) -> None:
        self._shown.append(shown)

    def _setup_table(self) -> pd.DataFrame:
        """The setup summary with PyCaret's session rows (``pull()`` after setup)."""
        table = self._state().summary()
        extra = pd.DataFrame(
            {"Value": [str(self.n_jobs_param), self.exp_name_log, self._usi]},
            index=["CPU Jobs", "Experiment Name", "USI"],
        )
        return pd.concat([table, extra]).rename_axis("Description")

    def _refit_on_dask(self, record: FittedModel, prepared: Prepared) -> bool:
        """After a Dask setup: the model refitted on every row where a distributed fit exists
        (the fit on the sample stays otherwise); its note says which. False without Dask."""
        if self._dask is None:
            return False
        from clusterlab.distributed import workflow as _dask

        _dask.refit(record, prepared, self._dask, self._metrics)
        return True
