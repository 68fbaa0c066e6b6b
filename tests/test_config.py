import subprocess
import sys

import numba
import pytest

from clusterlab import _config
from clusterlab._config import check_memory, config_context, effective_n_jobs, get_config, threads


def test_threads_sets_and_restores():
    before = numba.get_num_threads()
    with threads(1) as n:
        assert n == 1
        assert numba.get_num_threads() == 1
    assert numba.get_num_threads() == before


def test_threads_restores_after_error():
    before = numba.get_num_threads()
    with pytest.raises(RuntimeError, match="boom"), threads(1):
        raise RuntimeError("boom")
    assert numba.get_num_threads() == before


def test_threads_none_keeps_current():
    before = numba.get_num_threads()
    with threads(None) as n:
        assert n == before


@pytest.mark.parametrize("bad", [0, 1.5, "2", True])
def test_effective_n_jobs_rejects(bad):
    with pytest.raises(ValueError, match="n_jobs must be None or a non-zero int"):
        effective_n_jobs(bad)


def test_effective_n_jobs_negative():
    import os

    assert effective_n_jobs(-1) == os.cpu_count()
    assert effective_n_jobs(-1000) == 1


def test_memory_budget_refuses_with_alternative():
    with config_context(memory_budget=1), pytest.raises(MemoryError, match="use MiniBatch"):
        check_memory(2 * 2**20, what="the matrix", alternative="use MiniBatch")
    check_memory(1024, what="the matrix", alternative="x")


def test_set_config_validates_and_context_restores():
    old = get_config()
    with config_context(working_memory=64):
        assert get_config()["working_memory"] == 64
    assert get_config() == old
    with pytest.raises(ValueError, match="memory_budget must be a positive number of MiB; got -1"):
        _config.set_config(memory_budget=-1)


def test_env_flag_parsing(monkeypatch):
    monkeypatch.setenv("X_FLAG", "off")
    assert _config._env_flag("X_FLAG", True) is False
    monkeypatch.setenv("X_FLAG", "maybe")
    with pytest.raises(ValueError, match="X_FLAG must be one of"):
        _config._env_flag("X_FLAG", True)


def test_import_is_light():
    code = (
        "import sys, clusterlab; "
        "heavy = [m for m in ('numba', 'matplotlib', 'dask', 'sklearn', 'pandas') "
        "if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
