"""Faults: a worker killed in the middle of a fit, and runs that cannot fit in memory."""

from __future__ import annotations

import logging
import math
import os
import signal

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from clusterlab import KMeans

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

from clusterlab.distributed._cluster import Workers, plan_memory  # noqa: E402

pytestmark = pytest.mark.timeout(600)

MiB = 2**20


def _pool(budget_mib, comfort_mib=None, nthreads=(1, 1)):
    comfort = budget_mib if comfort_mib is None else comfort_mib
    n = len(nthreads)
    return Workers(tuple(nthreads), (budget_mib * MiB,) * n, (comfort * MiB,) * n)


def test_plan_refuses_blocks_larger_than_a_worker_thread_can_hold():
    # 100,000 rows x 16 float64 = 12.2 MiB a block; with 40 bytes of state a row a task holds
    # 2 x 12.2 + 2 x 3.8 = 32 MiB; a 2-thread worker of 50 MiB gives each thread 25 MiB,
    # enough for 25 MiB / 336 bytes = 78,019 rows.
    with pytest.raises(MemoryError, match=r"use blocks of at most 78,019 rows") as info:
        plan_memory(
            _pool(50, nthreads=(2,)),
            lengths=[100_000, 100_000],
            row_bytes=128,
            state_row_bytes=40,
            what="KMeans.fit",
            alternative="algorithm='lloyd' keeps 8 bytes a row",
        )
    assert "100,000 rows needs about 32 MiB per task" in str(info.value)


def test_plan_refuses_state_larger_than_all_workers():
    with pytest.raises(MemoryError, match="algorithm='lloyd' keeps 8 bytes a row, or add workers"):
        plan_memory(
            _pool(100),
            lengths=[10_000] * 1000,
            row_bytes=64,
            state_row_bytes=40,
            what="KMeans.fit",
            alternative="algorithm='lloyd' keeps 8 bytes a row",
        )


def test_plan_keeps_data_that_fits_and_rereads_data_that_does_not():
    kwargs = {"lengths": [10_000] * 10, "row_bytes": 64, "state_row_bytes": 8, "what": "x"}
    assert plan_memory(_pool(100), alternative="", **kwargs).persist
    assert not plan_memory(_pool(100, comfort_mib=3), alternative="", **kwargs).persist
    unlimited = Workers((1,), (math.inf,), (math.inf,))
    assert plan_memory(unlimited, alternative="", **kwargs).persist


def test_auto_steps_down_to_bounds_that_fit():
    from types import SimpleNamespace

    from clusterlab.distributed.kmeans import _plan

    data = SimpleNamespace(n_features=16, dtype=np.dtype(np.float32), weights=None)
    data.lengths = (100_000,) * 20
    est = KMeans(64, algorithm="auto")
    # State of 2,000,000 rows plus one task of 100,000 rows per worker thread: yinyang keeps
    # 16 + 8 * 3 bytes a row (76 + 40 MiB), Hamerly 24 (46 + 34), Lloyd 8 but k-means|| 16
    # between its rounds (31 + 31).
    assert _plan(est, data, _pool(35), 2_000_000)[:2] == ("lloyd", 0)
    assert _plan(est, data, _pool(45), 2_000_000)[:2] == ("hamerly", 1)
    assert _plan(est, data, _pool(60), 2_000_000)[:2] == ("yinyang", 3)
    with pytest.raises(MemoryError, match="algorithm='lloyd' keeps 8 bytes a row"):
        _plan(KMeans(64, algorithm="yinyang"), data, _pool(35), 2_000_000)


def test_a_run_that_cannot_fit_fails_at_once():
    logging.getLogger("distributed").setLevel(logging.CRITICAL)
    cluster = distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=False,
        memory_limit="32MiB",
        dashboard_address=":0",
    )
    with distributed.Client(cluster, set_as_default=False) as client, client.as_current():
        X = da.zeros((200_000, 16), chunks=(100_000, 16))
        with pytest.raises(MemoryError, match=r"use blocks of at most [\d,]+ rows"):
            KMeans(3).fit(X)
    cluster.close()


@pytest.mark.slow
def test_a_worker_killed_mid_fit_changes_nothing(monkeypatch, caplog):
    """Persisted blocks run in worker actors; when one's worker dies the run starts again as
    tasks, whose per-block state the scheduler recomputes from its lineage when a second worker
    dies in their turn. Either way the fit ends as if nothing happened."""
    from clusterlab.distributed import _lloyd

    logging.getLogger("distributed").setLevel(logging.CRITICAL)
    X, _ = make_blobs(n_samples=120_000, centers=12, n_features=6, cluster_std=3.0, random_state=0)
    init = X[:12].copy()
    Xd = da.from_array(X, chunks=(15_000, 6))
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    )
    with distributed.Client(cluster, set_as_default=False) as client, client.as_current():
        quiet = KMeans(12, init=init, algorithm="hamerly", tol=0).fit(Xd)
        assert quiet.n_iter_ > 6
        step = _lloyd._Iterations.step
        done = []
        before = set(client.run(os.getpid).values())

        def step_and_kill(self):
            out = step(self)
            done.append(type(self.blocks).__name__)
            # after 3 passes in actors, then after 5 passes of the rerun as tasks (every
            # block's state then lives on the workers only)
            if len(done) in {3, 8}:
                client.wait_for_workers(2, timeout=60)
                pid = min(set(client.run(os.getpid).values()) & before)  # an original one
                os.kill(pid, signal.SIGKILL)
            return out

        monkeypatch.setattr(_lloyd._Iterations, "step", step_and_kill)
        with caplog.at_level(logging.WARNING, logger="clusterlab.distributed._lloyd"):
            hit = KMeans(12, init=init, algorithm="hamerly", tol=0).fit(Xd)
        assert done[:3] == ["ResidentBlocks"] * 3
        assert done[3:] == ["TaskBlocks"] * hit.n_iter_  # the task run survived its worker
        assert [r.message for r in caplog.records if "running them again as tasks" in r.message]
        client.wait_for_workers(2, timeout=60)
        assert set(client.run(os.getpid).values()).isdisjoint(before)  # both were restarted
    cluster.close()
    assert hit.n_iter_ == quiet.n_iter_
    assert hit.inertia_ == quiet.inertia_
    np.testing.assert_array_equal(hit.cluster_centers_, quiet.cluster_centers_)
    ref = KMeans(12, init=init, algorithm="hamerly", tol=0).fit(X)
    assert hit.n_iter_ == ref.n_iter_
    assert hit.inertia_ == pytest.approx(ref.inertia_, rel=1e-9)
