"""The scoring service: a model file behind an HTTP API (``pip install clusterlab[serve]``).

``clusterlab serve MODEL_FILE`` (or :func:`run`) loads the model with the safe loader and serves

- ``POST /predict``: one JSON object or an array of objects with the model's feature columns ->
  each row's segment (-1 = noise), the segment's description and the row's anomaly score;
- ``GET /model``: the model id, its features and their types, the segments with their
  descriptions, and the file's SHA-256;
- ``GET /health``;
- ``GET /openapi.json`` (and ``/docs``): the OpenAPI schema, the request body's built from the
  model's feature schema.

``--workers N`` starts N server processes on the port (uvicorn's), each loading the file. A
numeric k-means model is scored without its per-call checks (the request was validated) and, for
an all-numeric pipeline, without building a DataFrame: a one-row request costs the server under
half a millisecond of CPU, HTTP included.

Bad input gets a 422 naming the row and the column (missing or extra columns, wrong types, NaN or
null where the model cannot take it, too many rows). The service binds to 127.0.0.1 unless told
otherwise; it has no authentication (put it behind your gateway to expose it). No route reads or
writes a file.
"""

from __future__ import annotations

import ipaddress
import logging
import os
from typing import Any

try:
    import fastapi  # noqa: F401
    import pydantic  # noqa: F401
except ImportError as exc:  # the modules below need them
    raise ImportError(
        f"the scoring service needs {exc.name}: pip install clusterlab[serve]"
    ) from None

from clusterlab.serve._worker import settle
from clusterlab.serve.app import DEFAULT_MAX_ROWS, create_app
from clusterlab.serve.model import ServedModel

__all__ = ["DEFAULT_MAX_ROWS", "ServedModel", "create_app", "is_loopback", "run", "settle"]

logger = logging.getLogger("clusterlab.serve")


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address or ``localhost``.

    Examples
    --------
    >>> is_loopback("127.0.0.1"), is_loopback("::1"), is_loopback("0.0.0.0")
    (True, True, False)
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run(
    model: str | os.PathLike[str],
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    max_rows: int = DEFAULT_MAX_ROWS,
    access_log: bool = False,
    log_level: str = "info",
    workers: int = 1,
) -> None:
    """Serve a model file with uvicorn until interrupted (see the module docstring).

    The model is loaded (and checked) before the port is opened: a bad file fails at once.
    ``workers`` > 1 starts that many server processes on the port (uvicorn's own), each loading
    the file and refusing to start if its checksum is no longer the one checked here.
    """
    try:
        import uvicorn
    except ImportError:
        raise ImportError(
            "the scoring service needs uvicorn: pip install clusterlab[serve]"
        ) from None
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be an int >= 1; got {workers!r}")
    served = ServedModel(model)
    app = create_app(served, max_rows=max_rows)
    if not is_loopback(host):
        logger.warning(
            "listening on %s, reachable from other machines: the service has no authentication",
            host,
        )
    config: dict[str, Any] = {
        "host": host,
        "port": port,
        "access_log": access_log,
        "log_level": log_level,
        "server_header": False,
    }
    if workers > 1:
        from clusterlab.serve import _worker

        _worker.publish(served, max_rows)
        uvicorn.run(f"{_worker.__name__}:app", factory=True, workers=workers, **config)
        return
    settle()
    uvicorn.run(app, **config)
