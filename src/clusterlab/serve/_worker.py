"""The application of one server process when ``clusterlab serve --workers N`` starts several.

uvicorn starts its worker processes from an import string, so the parent hands each worker the
model file, its checksum and the row limit through the environment (:func:`publish`); each
worker loads the file with the safe loader and refuses to start when the file's checksum is no
longer the one the parent checked (:func:`app`).
"""

from __future__ import annotations

import os
from typing import Any

from clusterlab.serve.model import ServedModel

__all__ = ["app", "publish", "settle"]

_MODEL, _SHA256, _MAX_ROWS = (
    "CLUSTERLAB_SERVE_MODEL",
    "CLUSTERLAB_SERVE_SHA256",
    "CLUSTERLAB_SERVE_MAX_ROWS",
)


def publish(served: ServedModel, max_rows: int) -> None:
    """Tell the worker processes about to start which model to serve."""
    os.environ[_MODEL] = str(served.path.resolve())
    os.environ[_SHA256] = served.sha256
    os.environ[_MAX_ROWS] = str(max_rows)


def app() -> Any:
    """The application of this worker process (uvicorn's factory)."""
    from clusterlab.serve.app import create_app

    served = ServedModel(os.environ[_MODEL])
    if served.sha256 != os.environ[_SHA256]:
        raise RuntimeError(
            f"{served.path} changed after the service checked it (SHA-256 "
            f"{os.environ[_SHA256][:16]}... then, {served.sha256[:16]}... now); restart it"
        )
    application = create_app(served, max_rows=int(os.environ[_MAX_ROWS]))
    settle()
    return application


def settle() -> None:
    """Move everything loaded so far out of the garbage collector's sight (``gc.freeze``).

    The model, scikit-learn, pandas and numba make hundreds of thousands of long-lived objects;
    each full collection would walk them all, a pause of tens of milliseconds in the middle of
    some request. Frozen, they are never scanned; the objects of each request still are.
    """
    import gc

    gc.collect()
    gc.freeze()
