"""The experiment's file methods: ``save_model``, ``load_model``, ``deploy_model``,
``save_experiment``, ``load_experiment`` (PyCaret 3's signatures; the safe file formats are
:mod:`.storage`'s and :mod:`clusterlab.persistence`'s)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from clusterlab.workflow import storage as _storage
from clusterlab.workflow.records import find_record
from clusterlab.workflow.session import Session, check_bool, unused_options

__all__ = ["FileMethods"]

#: The experiment class ``load_experiment`` is called on (it returns one of it).
_Self = TypeVar("_Self", bound="FileMethods")

logger = logging.getLogger(__name__)


class FileMethods(Session):
    """Model files and experiment files (see :class:`~clusterlab.Experiment`)."""

    def _save(self, model: Any, model_name: Any, model_only: bool, verbose: bool | None) -> Any:
        check_bool("model_only", model_only)
        if verbose is not None:
            check_bool("verbose", verbose)
        prepared = self._state()
        bundle, path = _storage.save_model(
            model_name, prepared, find_record(self._fitted, model), model_only=model_only
        )
        saved = "Model" if model_only else "Transformation Pipeline and Model"
        self._message(f"{saved} Successfully Saved to {path}", verbose)
        return bundle, path

    def save_model(
        self,
        model: Any,
        model_name: Any,
        model_only: bool = False,
        verbose: bool | None = None,
        **kwargs: Any,
    ) -> Path:
        """Save the preprocessing pipeline and ``model`` in one safe file; return its path.

        ``model_name`` without a suffix gets ``.clusterlab``; :meth:`load_model` accepts the
        name with or without it. ``model_only=True`` saves the model alone (it then labels
        prepared features). ``verbose`` prints PyCaret's line saying so (default: setup's
        ``verbose``; :class:`ClusteringExperiment`: True, as PyCaret). ``**kwargs`` are
        PyCaret's options for ``joblib.dump``: the safe file format has none, so they have no
        effect (said in one line).
        """
        unused_options("save_model", "joblib.dump", kwargs)
        return self._save(model, model_name, model_only, verbose)[1]

    def load_model(
        self,
        model_name: Any,
        platform: str | None = None,
        authentication: dict[str, str] | None = None,
        verbose: bool | None = None,
    ) -> Any:
        """Load a model file written by :meth:`save_model` (name with or without its suffix).

        ``platform`` (PyCaret's cloud download) is refused: clusterlab loads files from disk,
        so download the file first; ``authentication`` goes with it and is unused.
        ``verbose`` as in :meth:`save_model`.
        """
        from clusterlab.persistence import load_model

        if platform is not None:
            raise ValueError(
                f"platform={platform!r}: clusterlab loads model files from disk only; download "
                "the file from your storage and pass its path"
            )
        if verbose is not None:
            check_bool("verbose", verbose)
        loaded = load_model(model_name)
        self._message("Transformation Pipeline and Model Successfully Loaded", verbose)
        return loaded

    def deploy_model(
        self, model: Any, model_name: str, authentication: dict, platform: str = "aws"
    ) -> None:
        """PyCaret uploads the model to a cloud bucket; clusterlab has no cloud deployment.

        Raises
        ------
        NotImplementedError
            Always, saying what to use instead.
        """
        raise NotImplementedError(
            f"deploy_model: clusterlab does not deploy to the cloud (platform={platform!r}); "
            f"save the model with save_model(model, {model_name!r}), copy the file where it is "
            "needed and label new data with load_model + predict_model, or with "
            f"`clusterlab predict {model_name}.clusterlab new.csv --out labelled.csv`"
        )

    def save_experiment(self, path_or_file: Any, **cloudpickle_kwargs: Any) -> Any:
        """Save setup and every fitted model (not the data) to one safe experiment file; reload
        it with :meth:`load_experiment` (name with or without its ``.clusterlab`` suffix).

        ``**cloudpickle_kwargs`` are PyCaret's pickling options: the safe format has none, so
        they have no effect (said in one line).
        """
        unused_options("save_experiment", "cloudpickle", cloudpickle_kwargs)
        prepared = self._state()
        custom = self._metrics.custom()
        if custom:
            logger.warning("custom metrics %s are not saved (they are code)", custom)
        return _storage.save_experiment(
            path_or_file, prepared, self._fitted.values(), self._k_selection, self.search_size
        )

    @classmethod
    def load_experiment(
        cls: type[_Self],
        path_or_file: Any,
        data: Any = None,
        data_func: Callable[[], Any] | None = None,
        preprocess_data: bool = True,
        **cloudpickle_kwargs: Any,
    ) -> _Self:
        """Rebuild a saved experiment on the data setup saw, without refitting anything.

        Give ``data`` or ``data_func``. With ``preprocess_data`` (the default) setup's ``index``
        option is applied to it again; ``preprocess_data=False`` takes it as it is (e.g. the
        experiment's ``data`` saved on its own). ``**cloudpickle_kwargs`` have no effect.
        """
        unused_options("load_experiment", "cloudpickle", cloudpickle_kwargs)
        check_bool("preprocess_data", preprocess_data)
        restored = _storage.load_experiment(
            path_or_file, data, data_func=data_func, preprocess_data=preprocess_data
        )
        exp = cls()
        exp._prepared = restored.prepared
        exp._fitted.update(restored.records)
        exp._k_selection.update(restored.k_selection)
        exp.search_size = restored.search_size
        exp._shown = [exp._setup_table()]
        return exp
