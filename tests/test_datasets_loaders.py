"""list_datasets, load_benchmark / list_benchmarks (a tiny suite and ../shared), online retail."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest

from clusterlab import NOISE
from clusterlab.datasets import (
    list_benchmarks,
    list_datasets,
    load_benchmark,
    load_online_retail,
    load_wholesale_customers,
)
from tests.test_rfm import shared_data


def test_list_datasets():
    table = list_datasets()
    assert table.columns.tolist() == [
        "name",
        "rows",
        "columns",
        "description",
        "source",
        "licence",
        "location",
        "loader",
    ]
    row = table.set_index("name").loc["wholesale_customers"]
    assert row["location"] == "bundled"
    assert (row["rows"], row["columns"]) == load_wholesale_customers().shape
    assert set(table["location"]) == {"bundled", "path"}
    assert table["licence"].notna().all()


def _gz(path, text):
    path.write_bytes(gzip.compress(text.encode()))


@pytest.fixture
def suite(tmp_path):
    battery = tmp_path / "toy"
    battery.mkdir()
    (tmp_path / "other").mkdir()
    _gz(battery / "dots.data.gz", "0 0\n0 1\n5 5\n5 6\n9 9\n")
    _gz(battery / "dots.labels0.gz", "1\n1\n2\n2\n0\n")
    _gz(battery / "dots.labels1.gz", "1\n1\n1\n1\n2\n")
    (battery / "dots.txt").write_text("Five dots.\n")
    _gz(battery / "dotsy.data.gz", "1\n2\n")
    _gz(battery / "dotsy.labels0.gz", "1\n1\n")
    return tmp_path


def test_load_benchmark(suite):
    b = load_benchmark("toy", "dots", root=suite)
    assert b.data.dtype == np.float64 and b.data.shape == (5, 2)
    assert len(b.labels) == 2
    # files use 0 for noise and 1..k; clusterlab uses -1 for noise and 0..k-1
    assert b.labels[0].tolist() == [0, 0, 1, 1, NOISE]
    assert b.labels[1].tolist() == [0, 0, 0, 0, 1]
    assert all(lab.dtype == np.int64 for lab in b.labels)
    assert b.n_clusters == [2, 2]
    assert b.description == "Five dots.\n"
    # "dotsy" shares the prefix but its labels are not mixed in
    assert load_benchmark("toy", "dotsy", root=suite).labels[0].tolist() == [0, 0]


def test_list_benchmarks(suite):
    table = list_benchmarks(suite)
    assert table.to_dict("list") == {
        "battery": ["toy", "toy"],
        "name": ["dots", "dotsy"],
        "n_partitions": [2, 1],
    }


def test_benchmark_errors(suite, tmp_path):
    with pytest.raises(FileNotFoundError, match=r"battery='tyo' not found .*did you mean toy"):
        load_benchmark("tyo", "dots", root=suite)
    with pytest.raises(FileNotFoundError, match=r"name='dost' not found in battery 'toy'.*dots"):
        load_benchmark("toy", "dost", root=suite)
    with pytest.raises(FileNotFoundError, match="is not a folder holding the benchmark suite"):
        load_benchmark("toy", "dots", root=tmp_path / "missing")
    _gz(suite / "toy" / "dots.labels2.gz", "1\n2\n")
    with pytest.raises(ValueError, match=r"labels2.gz: 2 labels for 5 points"):
        load_benchmark("toy", "dots", root=suite)


@pytest.fixture(scope="module")
def benchmarks_root():
    data = shared_data()
    if data is None or not (data / "clustering-benchmarks").is_dir():
        pytest.skip("clustering-benchmarks not found beside the repository (../shared/data)")
    return data / "clustering-benchmarks"


def test_real_suite(benchmarks_root):
    table = list_benchmarks(benchmarks_root)
    # the suite has 69 data sets; a copy may leave out the largest (sipu/worms_64 ships no data)
    assert len(table) == len(list(benchmarks_root.glob("*/*.data.gz"))) >= 68
    assert set(table["battery"]) == {"fcps", "graves", "other", "sipu", "wut"}
    atom = load_benchmark("fcps", "atom", root=benchmarks_root)
    assert atom.data.shape == (800, 3)
    assert atom.n_clusters == [2]
    assert np.bincount(atom.labels[0]).tolist() == [400, 400]
    noisy = load_benchmark("graves", "zigzag_noisy", root=benchmarks_root)
    assert (noisy.labels[0] == NOISE).any()
    assert len(load_benchmark("fcps", "engytime", root=benchmarks_root).labels) == 2


def test_online_retail_small_copy(tmp_path):
    text = (
        "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
        "536365,85123A,HEART,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom\n"
        "C536379,D,Discount,-1,2010-12-01 09:41:00,27.5,,United Kingdom\n"
    )
    (tmp_path / "online_retail.csv").write_text(text)
    log = load_online_retail(tmp_path)  # a folder holding the file
    assert log["InvoiceNo"].tolist() == ["536365", "C536379"]
    assert log["CustomerID"].dtype == "Int64"
    assert log["CustomerID"].isna().tolist() == [False, True]
    assert log["InvoiceDate"].iloc[0] == pd.Timestamp("2010-12-01 08:26")


def test_online_retail_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"holds none of online_retail\.csv\.gz"):
        load_online_retail(tmp_path)
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match=r"is not the online-retail log: it lacks the columns"):
        load_online_retail(tmp_path / "other.csv")
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_online_retail(tmp_path / "gone.csv")
