"""Database tables into and out of Dask: clusterlab.distributed.io.read_database / write_database
and ``clusterlab segment URL --table NAME --scheduler ...``.

The staged result computes to what the in-memory read gives (values, dtypes, missing values that
appear in one partition only); the partitioned write is one transaction; the lazy command gives
the in-memory command's segments.
"""

from __future__ import annotations

import sqlite3
import tempfile

import numpy as np
import pandas as pd
import pytest

from clusterlab import config_context
from clusterlab.io import _db, read_table, write_table
from tests import postgres as pg
from tests.test_io_databases import customers, database  # noqa: F401  (a fixture)

dd = pytest.importorskip("dask.dataframe")
dio = pytest.importorskip("clusterlab.distributed.io")

pytestmark = pytest.mark.timeout(600)

#: Missing values in one part only: an integer column (NULL at id 45), a text column (NULL in
#: the first ten rows), a boolean column (NULL at id 20; an integer in SQLite, which has none).
QUERY = (
    "SELECT id, CASE WHEN id = 45 THEN NULL ELSE id * 2 END AS visits, "
    "CASE WHEN id < 10 THEN NULL ELSE 'c' || id END AS label, "
    "CASE WHEN id = 20 THEN NULL ELSE id % 2 = 0 END AS even, "
    "CASE WHEN id < 30 THEN 1.5 ELSE NULL END AS spend "
    "FROM numbers ORDER BY id"
)


def _numbers(url: str, n: int = 50) -> None:
    write_table(pd.DataFrame({"id": np.arange(n, dtype=np.int64)}), url, table="numbers")


def test_staged_result_computes_to_the_in_memory_read(database):  # noqa: F811
    _numbers(database)
    expected = read_table(database, sql=QUERY)
    assert expected["visits"].dtype == np.float64 and expected["id"].dtype == np.int64
    with dio.read_database(database, sql=QUERY, partition_rows=10) as frame:
        assert frame.npartitions == 5
        got = frame.compute()
        assert dict(frame.dtypes) == dict(got.dtypes)  # the meta tells the truth
    pd.testing.assert_frame_equal(got, expected)
    assert got.index.tolist() == list(range(50))
    if got["even"].dtype == object:  # booleans with a NULL (SQLite has none: 0 / 1 there)
        assert got["even"][20] is None and got["even"][21] is False


def test_staged_table_keeps_keys_and_types(database):  # noqa: F811
    table = customers(23)
    write_table(table, database, table="customers")
    with dio.read_database(database, table="customers", partition_rows=7) as frame:
        assert frame.npartitions == 4
        got = frame.compute()
    pd.testing.assert_frame_equal(got, read_table(database, table="customers"))
    pd.testing.assert_frame_equal(got, table)


def test_staging_folder_is_removed_or_kept(tmp_path, monkeypatch):
    url = f"duckdb:///{tmp_path / 'shop.duckdb'}"
    _numbers(url)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    with dio.read_database(url, table="numbers", partition_rows=20) as frame:
        assert len(list(scratch.glob("clusterlab-staged-*/part-*.parquet"))) == 3
        assert int(frame["id"].sum().compute()) == sum(range(50))
    assert list(scratch.iterdir()) == []  # the temporary folder went with the block
    kept = tmp_path / "kept"
    with dio.read_database(url, table="numbers", folder=kept, partition_rows=20):
        pass
    assert dd.read_parquet(kept)["id"].sum().compute() == sum(range(50))
    with (
        pytest.raises(ValueError, match="folder must be a new or empty folder"),
        dio.read_database(url, table="numbers", folder=kept),
    ):
        pass


def test_read_database_refuses_bad_arguments(tmp_path):
    url = f"duckdb:///{tmp_path / 'shop.duckdb'}"
    _numbers(url)
    cases = [
        ({"table": "numbers", "sql": "SELECT 1"}, "not both"),
        ({}, "not neither"),
        ({"table": "numbers", "partition_rows": 0}, "partition_rows must be an int >= 1; got 0"),
        ({"table": "nope"}, "has no table 'nope'"),
    ]
    for kwargs, message in cases:
        with pytest.raises(ValueError, match=message), dio.read_database(url, **kwargs):
            pass
    with pytest.raises(ValueError, match="reads a database"), dio.read_database(tmp_path / "x.csv"):
        pass


def test_a_column_of_different_kinds_in_different_parts_is_refused(tmp_path):
    path = tmp_path / "mixed.db"
    with sqlite3.connect(path) as con:  # SQLite stores any value in any column
        con.execute("CREATE TABLE m (v)")
        con.executemany("INSERT INTO m VALUES (?)", [(i,) for i in range(5)] + [("x",)] * 5)
    with (
        pytest.raises(ValueError, match=r"column 'v' .* different kinds .*int64, str"),
        dio.read_database(f"sqlite:///{path}", table="m", partition_rows=5),
    ):
        pass


def test_a_result_over_the_memory_budget_streams_into_dask(tmp_path, monkeypatch):
    url = f"duckdb:///{tmp_path / 'big.duckdb'}"
    table = customers(60_000)
    write_table(table, url, table="c")
    monkeypatch.setattr(_db, "CHUNK_ROWS", 4096)
    with config_context(memory_budget=1):
        with pytest.raises(MemoryError, match="stream it into Dask instead"):
            read_table(url, table="c")
        with dio.read_database(url, table="c", partition_rows=8192) as frame:
            assert frame.npartitions == 8
            visits = int(frame["visits"].sum().compute())
    assert visits == int(table["visits"].sum())


# ------------------------------------------------------------------------------------ writing


@pytest.mark.usefixtures("dask_client")
def test_write_database_partition_by_partition(database):  # noqa: F811
    table = customers(40)
    dio.write_database(dd.from_pandas(table, npartitions=4), database, table="c")
    pd.testing.assert_frame_equal(read_table(database, table="c"), table)
    steps = []
    named = dd.from_pandas(table.set_index("customer_id"), npartitions=3)
    dio.write_database(named, database, table="d", advance=lambda: steps.append(1))
    assert len(steps) == 3
    pd.testing.assert_frame_equal(read_table(database, table="d"), table)  # a named index


def _fail_on(part: pd.DataFrame, bad: int) -> pd.DataFrame:
    if (part["customer_id"] == bad).any():
        raise RuntimeError("partition on fire")
    return part


@pytest.mark.usefixtures("dask_client")
@pytest.mark.parametrize("if_exists", ["fail", "replace", "append"])
def test_failing_partition_leaves_the_database_as_it_was(database, if_exists):  # noqa: F811
    old = customers()
    if if_exists != "fail":
        write_table(old, database, table="c")
    new = customers(40)
    lazy = dd.from_pandas(new, npartitions=4).map_partitions(_fail_on, int(new["customer_id"][35]))
    with pytest.raises(RuntimeError, match="partition on fire"):
        dio.write_database(lazy, database, table="c", if_exists=if_exists)
    if if_exists == "fail":
        with pytest.raises(ValueError, match="has no table 'c'"):
            read_table(database, table="c")
    else:
        pd.testing.assert_frame_equal(read_table(database, table="c"), old)


def test_partitions_without_a_distributed_client_come_in_order():
    frame = dd.from_pandas(pd.DataFrame({"x": range(10)}), npartitions=3)
    steps = []
    parts = list(dio._computed_partitions(frame, lambda: steps.append(1), client=None))
    assert len(parts) == len(steps) == frame.npartitions > 1
    assert pd.concat(parts)["x"].tolist() == list(range(10))


# ------------------------------------------------------------------------------- command line


SEGMENT = ["--ignore", "Region", "Channel", "customer_id", "--model", "kmeans", "--k", "3"]


def test_segment_on_dask_from_and_back_to_a_database(
    database,  # noqa: F811
    wholesale,
    tmp_path,
    capsys,
    dask_client,
):
    from clusterlab.cli import EXIT_OK, main

    url = database
    frame = wholesale.assign(customer_id=range(100_001, 100_001 + len(wholesale)))
    write_table(frame, url, table="customers")
    common = ["segment", url, "--table", "customers", *SEGMENT, "--out", url]
    assert main([*common, "--out-table", "in_memory"]) == EXIT_OK
    address = dask_client.scheduler.address
    lazy = [*common, "--out-table", "on_dask", "--scheduler", address, "--staging", str(tmp_path)]
    code = main(lazy)
    out = capsys.readouterr().out
    assert code == EXIT_OK, out
    assert "labelled data (one transaction)" in out and "440 rows" in out
    assert pg.PASSWORD not in out  # the URL is shown masked
    expected = read_table(url, table="in_memory")
    got = read_table(url, table="on_dask")
    pd.testing.assert_frame_equal(got, expected)  # the same rows, keys and segments
    assert list(tmp_path.glob("clusterlab-staged-*")) == []  # the staged files are gone


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ([], "is a database: name the table with --table"),
        (["--table", "t", "--scheduler", "tcp://127.0.0.1:9"], "give --staging DIR"),
        (
            ["--table", "t", "--scheduler", "local", "--out", "x/", "--out-table", "s"],
            "write to a database; --out x/ is a folder",
        ),
        (["--table", "t", "--staging", "."], "--staging is where --scheduler stages"),
    ],
)
def test_segment_on_dask_refuses_bad_database_options(extra, message, tmp_path, capsys):
    from clusterlab.cli import EXIT_USAGE, main

    url = f"duckdb:///{tmp_path / 'shop.duckdb'}"
    _numbers(url)
    argv = ["segment", url, *extra]
    if "--scheduler" not in extra and "--staging" not in extra:
        argv += ["--scheduler", "local"]
    assert main(argv) == EXIT_USAGE
    assert message in capsys.readouterr().err
