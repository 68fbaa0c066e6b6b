"""Shared fixtures. Keep data small: numba compiles on first call, so share fitted objects."""

from __future__ import annotations

import logging
import os

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
os.environ.setdefault("CLUSTERLAB_NUMBA_CACHE", "1")


@pytest.fixture(scope="session")
def blobs():
    """Three well-separated 2-D blobs, 300 points, with their true labels."""
    from sklearn.datasets import make_blobs

    X, y = make_blobs(n_samples=300, centers=3, cluster_std=0.6, random_state=0)
    return X, y


@pytest.fixture(scope="session")
def wholesale():
    from clusterlab.datasets import load_wholesale_customers

    return load_wholesale_customers()


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def postgres():
    """A throwaway PostgreSQL server on loopback (tests/postgres.py); skipped only when no server
    binary is installed, and then only when CLUSTERLAB_REQUIRE_POSTGRES is not set."""
    from tests import postgres as pg

    bin_dir = pg.server_binaries()
    if bin_dir is None:
        reason = (
            "no PostgreSQL server binaries (initdb, pg_ctl) in /usr/lib/postgresql/*/bin or on "
            "the PATH: install Debian's postgresql package to run the PostgreSQL tests"
        )
        if pg.required():
            pytest.fail(f"{pg.REQUIRE_ENV} is set but {reason}")
        pytest.skip(reason)
    server = pg.Server(bin_dir).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def dask_client():
    """A LocalCluster of 2 workers x 1 thread inside this process, for the distributed tests.

    Started once per test process (each xdist worker has its own); its client is the ambient
    one the estimators use. Dask is imported here only, so the rest of the suite never loads it.
    """
    import logging

    from distributed import Client, LocalCluster

    logging.getLogger("distributed").setLevel(logging.ERROR)
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
    )
    client = Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.fixture(autouse=True)
def _restore_clusterlab_logging():
    """The command line's ``main`` configures the process's ``clusterlab`` loggers (a handler,
    a level, no propagation); tests that call it in process must not change what later tests
    capture with ``caplog``."""
    names = ("clusterlab", "clusterlab.workflow.compiling")
    saved = [
        (log, log.handlers[:], log.level, log.propagate) for log in map(logging.getLogger, names)
    ]
    yield
    for log, handlers, level, propagate in saved:
        log.handlers[:] = handlers
        log.setLevel(level)
        log.propagate = propagate
