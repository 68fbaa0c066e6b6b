"""The experiment's setup and configuration methods: ``setup``, ``get_config``, ``set_config``
and ``pull`` (PyCaret 3's names and meanings; the variables are :mod:`.config`'s)."""

from __future__ import annotations

import secrets
from typing import Any, TypeVar

import pandas as pd

from clusterlab.distributed._dispatch import is_dask_collection
from clusterlab.workflow.config import CONFIG_NAMES, check_setting, config_value, with_setting
from clusterlab.workflow.fitting import check_engines
from clusterlab.workflow.prepared import prepare
from clusterlab.workflow.session import Session

#: The experiment class ``setup`` is called on (it returns ``self``).
_Self = TypeVar("_Self", bound="SetupMethods")

__all__ = ["SetupMethods"]

#: PyCaret draws a session seed in this range when setup is given none.
_SEED_RANGE = (150, 9000)


def _with_seed(options: dict[str, Any]) -> dict[str, Any]:
    """``options`` with a drawn ``session_id`` when none is given, as PyCaret does."""
    if options.get("session_id") is None:
        low, high = _SEED_RANGE
        options = {**options, "session_id": low + secrets.randbelow(high - low + 1)}
    return options


class SetupMethods(Session):
    """Setup, the setup variables and the tables shown (see :class:`~clusterlab.Experiment`)."""

    def setup(self: _Self, data: Any = None, **options: Any) -> _Self:
        """Infer the schema, fit the preprocessing pipeline once and prepare the features.

        Parameters
        ----------
        data : DataFrame, 2-D array or str path, optional
            The table to segment; it is never modified. Give it or ``data_func``.
        **options
            PyCaret 3's names (``normalize``, ``ignore_features``, ``session_id``,
            ``engines`` ...) and clusterlab's (``ground_truth``, ``label_format`` ...): every one
            is listed by ``SetupOptions.names()`` and documented, grouped, by
            :class:`~clusterlab.preprocessing.SetupOptions`. Without ``session_id`` a seed is
            drawn, as PyCaret does, so that ``get_config('seed')`` reproduces the run.

        Returns
        -------
        Experiment
            ``self``.
        """
        options = _with_seed(options)
        if is_dask_collection(data):  # a sample in memory; statistics and final fits on all rows
            from clusterlab.distributed import workflow as _dask

            prepared, dask = _dask.setup(data, **options)
        else:
            prepared, dask = prepare(data, **options), None
        check_engines(prepared.options.runtime.engines)
        self._prepared, self._dask = prepared, dask
        self._fitted.clear()
        self._k_selection.clear()
        self.leaderboard_ = self.tune_result_ = None
        self._usi = secrets.token_hex(2)
        self._shown = [self._setup_table()]
        self._show(prepared.preprocessor.schema_.reset_index(), "Inferred schema")
        self._show(self._shown[-1].reset_index(), "Setup")
        return self

    def get_config(self, variable: str | None = None) -> Any:
        """Return a setup variable; with no name, the list of names.

        PyCaret's names mean what they mean in PyCaret 3: ``'X'`` is the raw feature columns,
        ``'X_train_transformed'`` the prepared features the models are fitted on,
        ``'dataset_transformed'`` those of every row, ``'pipeline'`` the fitted scikit-learn
        pipeline, ``'seed'``, ``'USI'``, ``'n_jobs_param'``, ``'exp_name_log'`` ... (the whole
        table is in :mod:`clusterlab.workflow.config`); clusterlab's own are ``'X_all'``,
        ``'schema'``, ``'dropped'`` (why rows were left out), ``'k_selection'`` (model id ->
        :class:`~clusterlab.selection.ChooseKResult` of the last :meth:`compare_models`) ...
        """
        if variable is None:
            return list(CONFIG_NAMES)
        own = {
            "USI": self._usi,
            "label_format": self.label_format,
            "k_selection": dict(self._k_selection),
        }
        return config_value(variable, self._prepared, search_size=self.search_size, experiment=own)

    def set_config(self, variable: str | None = None, value: Any = None, **kwargs: Any) -> None:
        """Change ``seed`` / ``session_id``, ``sample_size``, ``search_size``, ``verbose``,
        ``n_jobs_param`` or ``exp_name_log``; several at once as keywords."""
        if variable is not None and kwargs:
            raise ValueError("set_config takes a variable and a value, or keywords; not both")
        settings = kwargs if variable is None else {variable: value}
        for key, new in settings.items():
            name, checked = check_setting(key, new)
            if name == "search_size":
                self.search_size = checked
            else:
                self._prepared = with_setting(self._state(), name, checked)

    def pull(self, pop: bool = False) -> pd.DataFrame:
        """The last table shown: the setup summary, a metrics row, the leaderboard of
        :meth:`compare_models` or the search table of :meth:`tune_model`; ``pop=True`` also
        removes it, so that the next ``pull()`` returns the one before."""
        if not self._shown:
            raise RuntimeError("nothing to pull: run setup, create_model or compare_models")
        last = self._shown.pop() if pop else self._shown[-1]
        return last.copy() if isinstance(last, pd.DataFrame) else last.to_pandas()
