"""clusterlab.io with databases: DuckDB and SQLite in process, PostgreSQL on a throwaway server.

Every backend: values and dtypes (keys included) round-trip, if_exists, writes that fail or are
killed half way leave the database as it was, clear errors that never show a password.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clusterlab import config_context
from clusterlab.io import (
    DatabaseError,
    TableExistsError,
    _db,
    _duckdb,
    _sqlalchemy,
    databases,
    is_database,
    mask_password,
    parse_database,
    read_table,
    write_table,
)
from tests import postgres as pg

SRC = Path(__file__).resolve().parents[1] / "src"
ROOT = Path(__file__).resolve().parents[1]


def customers(n: int = 6) -> pd.DataFrame:
    """Keys of several kinds and features with missing values: what a customer table holds."""
    rng = np.random.default_rng(0)
    repeat = -(-n // 3)

    def cycle(values: list) -> list:
        return (values * 2 * repeat)[:n]

    return pd.DataFrame(
        {
            "customer_id": np.arange(10_001, 10_001 + n, dtype=np.int64),
            "code": [f"{i:05d}" for i in range(n)],  # leading zeros: text, never a number
            "spend": rng.gamma(2.0, 50.0, n),
            "visits": rng.integers(0, 20, n),
            "country": cycle(["UK", "FR", None, "UK", "DE", "UK"]),
            "returns": cycle([1.5, np.nan, 0.0, 2.25, np.nan, 1e-300]),
            "active": cycle([True, False, True, True, False, True]),
            "since": pd.to_datetime(
                cycle(["2020-01-01 10:30:00", "2021-06-30 00:00:00", "2019-12-31 23:59:59"])
            ),
        }
    )


@pytest.fixture(params=["duckdb", "sqlite", "postgresql"])
def database(request, tmp_path):
    """A database URL of each backend (PostgreSQL: a fresh database on the shared server)."""
    if request.param == "duckdb":
        return f"duckdb:///{tmp_path / 'shop.duckdb'}"
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shop.db'}"
    server = request.getfixturevalue("postgres")
    name = f"t_{uuid.uuid4().hex[:12]}"
    write_table(pd.DataFrame({"x": [1]}), server.url(), table="bootstrap", if_exists="replace")
    _postgres_admin(server, f'CREATE DATABASE "{name}"')
    return server.url(name)


def _postgres_admin(server, statement: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(
        parse_database(server.url()).url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool
    )
    with engine.connect() as conn:
        conn.exec_driver_sql(statement)
    engine.dispose()


def backend_of(url: str) -> str:
    return url.split(":", 1)[0]


# ------------------------------------------------------------------------------ round trips


def test_round_trip_keeps_values_and_dtypes(database):
    frame = customers()
    written = write_table(frame, database, table="customers")
    assert str(written) == mask_password(database)
    back = read_table(database, table="customers")
    expected = frame.copy()
    if backend_of(database) == "sqlite":
        # SQLite has no boolean type: a BOOLEAN column stores 0 / 1 and reflects as Boolean,
        # which SQLAlchemy turns back into bool; timestamps are text it parses back
        pass
    pd.testing.assert_frame_equal(back, expected, check_dtype=True)


def test_round_trip_matches_the_file_path(database, tmp_path):
    """A table read from a database equals the same table read from a typed file (same dtypes,
    keys and values); from CSV too for the columns CSV keeps (it drops leading zeros and reads
    timestamps as text)."""
    frame = customers()
    write_table(frame, database, table="customers")
    from_db = read_table(database, table="customers")
    parquet, csv = tmp_path / "customers.parquet", tmp_path / "customers.csv"
    write_table(frame, parquet)
    write_table(frame, csv)
    pd.testing.assert_frame_equal(from_db, read_table(parquet))
    kept = [c for c in frame.columns if c not in ("code", "since")]
    pd.testing.assert_frame_equal(from_db[kept], read_table(csv)[kept])


def test_query_and_schema_qualified_names(database):
    frame = customers()
    if backend_of(database) == "sqlite":
        table = "customers"
    else:
        _create_schema(database, "analytics")
        table = "analytics.customers"
    write_table(frame, database, table=table)
    query = (
        f"SELECT customer_id, spend FROM {table} WHERE country = 'UK' AND spend > 0 "
        "ORDER BY customer_id"
    )
    got = read_table(database, sql=query)
    uk = frame.loc[frame["country"] == "UK", ["customer_id", "spend"]].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, uk)


def _create_schema(url: str, schema: str) -> None:
    db = parse_database(url)
    if db.backend == "duckdb":
        con = _duckdb.connect(db, write=True)
        con.execute(f"CREATE SCHEMA {schema}").fetchall()
        con.close()
        return
    engine = _sqlalchemy.engine(db)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    engine.dispose()


def test_postgres_sql_is_sent_verbatim(postgres):
    # casts (::), colons and percent signs in literals keep their meaning
    got = read_table(
        postgres.url(),
        sql="SELECT '10:30'::time::text AS t, 7 % 3 AS m, 'a:b' AS s, length('a%%b') AS l",
    )
    assert got.to_dict("records") == [{"t": "10:30:00", "m": 1, "s": "a:b", "l": 4}]


def test_postgres_numeric_and_date_types_read_as_numbers_and_datetimes(postgres):
    got = read_table(
        postgres.url(),
        sql="SELECT 12.50::numeric(10,2) AS amount, DATE '2024-02-29' AS day, "
        "gen_random_uuid() AS id, NULL::integer AS nothing",
    )
    assert got["amount"].dtype == np.float64 and got["amount"].iloc[0] == 12.5
    assert got["day"].iloc[0] == pd.Timestamp("2024-02-29")
    assert pd.api.types.is_datetime64_dtype(got["day"])
    assert got["id"].dtype == "str"
    assert np.isnan(got["nothing"].iloc[0])


def test_index_is_written_when_it_is_not_the_default(database):
    frame = customers().set_index("customer_id")
    write_table(frame, database, table="by_key")
    back = read_table(database, table="by_key")
    assert back.columns[0] == "customer_id"
    pd.testing.assert_frame_equal(back.set_index("customer_id"), frame)


def test_empty_frame_creates_an_empty_table(tmp_path):
    url = f"duckdb:///{tmp_path / 'e.duckdb'}"
    write_table(customers().iloc[:0], url, table="empty")
    back = read_table(url, table="empty")
    assert list(back.columns) == list(customers().columns) and len(back) == 0


# ------------------------------------------------------------------------------ if_exists


def test_if_exists(database):
    first, second = customers().iloc[:3], customers().iloc[3:].reset_index(drop=True)
    write_table(first, database, table="c")
    with pytest.raises(TableExistsError, match=r"table 'c' exists in .*--if-exists replace"):
        write_table(second, database, table="c")
    pd.testing.assert_frame_equal(read_table(database, table="c"), first)
    write_table(second, database, table="c", if_exists="replace")
    pd.testing.assert_frame_equal(read_table(database, table="c"), second)
    write_table(first, database, table="c", if_exists="append")
    both = read_table(database, table="c").sort_values("customer_id", ignore_index=True)
    pd.testing.assert_frame_equal(both, customers())


def test_append_needs_the_columns(database):
    write_table(customers(), database, table="c")
    with pytest.raises(ValueError, match=r"cannot append to table .* no columns \['extra'\]"):
        write_table(customers().assign(extra=1), database, table="c", if_exists="append")


def test_check_table_writable_before_work(database):
    databases.check_table_writable(database, "c")  # nothing there yet
    write_table(customers(), database, table="c")
    with pytest.raises(TableExistsError, match="table 'c' exists"):
        databases.check_table_writable(database, "c")
    databases.check_table_writable(database, "c", if_exists="append")


def test_write_options_checked():
    frame = customers()
    with pytest.raises(ValueError, match="name the table to write"):
        write_table(frame, "duckdb:///x.duckdb")
    with pytest.raises(ValueError, match="if_exists must be one of fail, replace, append"):
        write_table(frame, "duckdb:///x.duckdb", table="t", if_exists="merge")
    with pytest.raises(ValueError, match="append' adds rows to a database table"):
        write_table(frame, "x.csv", if_exists="append")
    with pytest.raises(ValueError, match="table= names a table of a database"):
        write_table(frame, "x.csv", table="t")
    with pytest.raises(ValueError, match="contradicts if_exists='fail'"):
        write_table(frame, "x.csv", overwrite=True, if_exists="fail")
    with pytest.raises(ValueError, match="in-memory database"):
        write_table(frame, "duckdb://", table="t")
    with pytest.raises(ValueError, match="several kinds"):
        write_table(pd.DataFrame({"m": [1, "a"]}), "duckdb:///x.duckdb", table="t")


def test_non_transactional_dialect_refused_for_new_tables():
    class Fake:
        class dialect:
            name = "mysql"

    db = parse_database("mysql://ann:pw@db/shop")
    with pytest.raises(ValueError, match="mysql commits CREATE TABLE at once"):
        _sqlalchemy._check_dialect(db, Fake, "fail")
    _sqlalchemy._check_dialect(db, Fake, "append")  # one INSERT transaction: fine


# ------------------------------------------------------------------------------ transactions


def _failing_insert(monkeypatch, backend: str, after: int) -> None:
    module = _duckdb if backend == "duckdb" else _sqlalchemy
    real = module._insert_chunk
    calls = {"n": 0}

    def insert(*args, **kwargs):
        real(*args, **kwargs)
        calls["n"] += 1
        if calls["n"] == after:
            raise RuntimeError("disk on fire")

    monkeypatch.setattr(module, "_insert_chunk", insert)
    monkeypatch.setattr(_db, "CHUNK_ROWS", 10)


@pytest.mark.parametrize("if_exists", ["fail", "replace", "append"])
def test_failed_write_leaves_the_database_as_it_was(database, monkeypatch, if_exists):
    old = customers()
    if if_exists != "fail":
        write_table(old, database, table="c")
    _failing_insert(monkeypatch, parse_database(database).backend, after=2)
    new = customers(60)
    with pytest.raises(RuntimeError, match="disk on fire"):
        write_table(new, database, table="c", if_exists=if_exists)
    monkeypatch.undo()
    if if_exists == "fail":
        with pytest.raises(ValueError, match="has no table 'c'"):
            read_table(database, table="c")
    else:
        pd.testing.assert_frame_equal(read_table(database, table="c"), old)


_KILL_SCRIPT = """
import json, os, signal, sys
from clusterlab.io import _db, _duckdb, _sqlalchemy, write_table
from tests.test_io_databases import customers

url, writes = sys.argv[1], json.loads(sys.argv[2])
module = _duckdb if url.startswith("duckdb") else _sqlalchemy
real = module._insert_chunk
_db.CHUNK_ROWS = 10

def insert(*args, **kwargs):
    real(*args, **kwargs)
    insert.calls += 1
    if insert.calls == 3:  # half way: 3 of 6 chunks are in
        os.kill(os.getpid(), signal.SIGKILL)

module._insert_chunk = insert
statuses = []
for table, mode in writes:  # each write in a forked child (nothing is connected yet), killed
    pid = os.fork()
    if pid == 0:
        insert.calls = 0
        write_table(customers(60), url, table=table, if_exists=mode)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    statuses.append(os.WTERMSIG(status) if os.WIFSIGNALED(status) else -os.WEXITSTATUS(status))
print(json.dumps(statuses))
"""


def test_write_killed_half_way_leaves_the_database_as_it_was(database):
    """The writing process is killed (SIGKILL) after half the rows are inserted, with each
    if_exists: the table is absent, or holds exactly what it held before. (One interpreter per
    backend; each write runs in a child forked from it.)"""
    old = customers()
    writes = [(f"c_{mode}", mode) for mode in ("fail", "replace", "append")]
    for table, mode in writes:
        if mode != "fail":
            write_table(old, database, table=table)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), str(ROOT)])}
    result = subprocess.run(
        [sys.executable, "-c", _KILL_SCRIPT, database, json.dumps(writes)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == [signal.SIGKILL] * 3, result.stderr
    with pytest.raises(ValueError, match="has no table 'c_fail'"):
        read_table(database, table="c_fail")
    write_table(old, database, table="c_fail")  # and nothing blocks writing it afterwards
    for table in ("c_replace", "c_append"):
        pd.testing.assert_frame_equal(read_table(database, table=table), old)


# ------------------------------------------------------------------------------ reading errors


def test_unknown_table_lists_the_tables(database):
    write_table(customers(), database, table="customers")
    with pytest.raises(ValueError, match=r"has no table 'custmers'; its tables: .*customers"):
        read_table(database, table="custmers")


def test_table_or_sql(database):
    with pytest.raises(ValueError, match=r"name a table .* or give a query .* not neither"):
        read_table(database)
    with pytest.raises(ValueError, match="not both"):
        read_table(database, table="a", sql="SELECT 1")
    with pytest.raises(ValueError, match="sep apply to files"):
        read_table(database, table="a", sep=";")


def test_bad_sql_is_a_database_error(database):
    write_table(customers(), database, table="customers")
    with pytest.raises(DatabaseError, match=r"SELEC|syntax"):
        read_table(database, sql="SELEC * FROM customers")


def test_missing_database_file(tmp_path):
    for url in (f"duckdb:///{tmp_path / 'no.duckdb'}", f"sqlite:///{tmp_path / 'no.db'}"):
        with pytest.raises(FileNotFoundError, match="no such database file"):
            read_table(url, table="t")
    assert not list(tmp_path.iterdir())  # reading never creates an empty database
    with pytest.raises(FileNotFoundError, match="does not exist"):
        write_table(customers(), f"duckdb:///{tmp_path / 'no' / 'x.duckdb'}", table="t")


def test_result_larger_than_the_memory_budget_is_refused(tmp_path, monkeypatch):
    url = f"duckdb:///{tmp_path / 'big.duckdb'}"
    write_table(customers(60_000), url, table="c")
    monkeypatch.setattr(_db, "CHUNK_ROWS", 4096)
    with (
        config_context(memory_budget=1),
        pytest.raises(
            MemoryError,
            match=r"reading table 'c'.* rows so far.*stream it into Dask instead "
            r"\(clusterlab\.distributed\.io\.read_database.*--scheduler local.*select fewer rows",
        ),
    ):
        read_table(url, table="c")


def test_missing_extras_name_them(monkeypatch):
    monkeypatch.setitem(sys.modules, "duckdb", None)
    with pytest.raises(ImportError, match=r"pip install clusterlab\[duckdb\]"):
        read_table("duckdb:///x.duckdb", table="t")
    monkeypatch.setitem(sys.modules, "sqlalchemy", None)
    with pytest.raises(ImportError, match=r"pip install clusterlab\[sql\]"):
        read_table("postgresql://ann@localhost/shop", table="t")


# ------------------------------------------------------------------------------ passwords


def test_postgres_password_from_the_environment(postgres, monkeypatch):
    write_table(customers(), postgres.url(), table="env_check", if_exists="replace")
    monkeypatch.setenv("PGPASSWORD", pg.PASSWORD)
    got = read_table(postgres.url(password=False), table="env_check")
    assert len(got) == len(customers())


def test_postgres_errors_never_show_the_password(postgres):
    wrong = postgres.url().replace(pg.PASSWORD, pg.PASSWORD + "x")
    cases = [
        (lambda: read_table(wrong, table="t"), DatabaseError, "password authentication failed"),
        (lambda: read_table(postgres.url(), table="nope"), ValueError, "has no table 'nope'"),
        (lambda: read_table(postgres.url(), sql="SELECT nope"), DatabaseError, "nope"),
        (
            lambda: read_table(postgres.url().replace("127.0.0.1", "127.0.0.1:notaport"), sql="x"),
            ValueError,
            "cannot parse the database URL",
        ),
    ]
    for call, error, match in cases:
        with pytest.raises(error, match=match) as info:
            call()
        assert pg.PASSWORD not in str(info.value)
        assert "***" in str(info.value)


@settings(max_examples=200, deadline=None)
@given(
    user=st.text(alphabet="abcdefghijklmnopqrstuvwxyz_0123456789", min_size=1, max_size=10),
    password=st.text(min_size=1, max_size=30).filter(lambda p: p.strip() and "*" not in p),
)
def test_a_password_is_never_shown(user, password):
    url = f"postgresql://{user}:{quote(password, safe='')}@db.example.com:5432/shop"
    db = parse_database(url)
    assert db.password == password
    shown = str(db)
    assert shown == f"postgresql://{user}:***@db.example.com:5432/shop"
    assert repr(db) == f"Database(backend='sqlalchemy', shown={shown!r}, path=None)"
    message = f"driver said: {password} refused for {url}"
    scrubbed = db.scrub(message)
    assert password not in scrubbed and quote(password, safe="") not in scrubbed


def test_locations():
    assert is_database("postgresql://a@b/c") and is_database(Path("x.duckdb"))
    assert not is_database("data.csv") and not is_database(Path("C:/data.csv"))
    assert parse_database("duckdb://").path == ":memory:"
    assert parse_database("duckdb:////abs/x.duckdb").path == "/abs/x.duckdb"
    assert parse_database("sqlite:///rel.db").path == "rel.db"
    assert parse_database("postgresql+psycopg://a@b/c").url == "postgresql+psycopg://a@b/c"
    assert mask_password("a sqlite:///data@2024.db b") == "a sqlite:///data@2024.db b"
    assert mask_password("x://u:p@ss@h/d") == "x://u:***@h/d"  # a raw @ in the password
    with pytest.raises(ValueError, match="takes no options"):
        parse_database("duckdb:///x.duckdb?mode=ro")
    with pytest.raises(ValueError, match="three or four slashes"):
        parse_database("duckdb://x.duckdb")


# ------------------------------------------------------------------------------ SQL over files


@pytest.mark.parametrize("name", ["c.csv", "c.csv.gz", "c.tsv", "c.parquet", "c.jsonl", "c.xlsx"])
def test_sql_over_a_file_reads_what_read_table_reads(tmp_path, name):
    frame = customers(30).drop(columns=["since"])
    path = tmp_path / name
    write_table(frame, path)
    everything = read_table(path, sql="SELECT * FROM data")
    plain = read_table(path)
    if name.startswith(("c.csv", "c.tsv")):
        # DuckDB's CSV reader keeps codes with leading zeros as text; pandas makes numbers of them
        assert everything["code"].tolist() == frame["code"].tolist()
        everything, plain = everything.drop(columns="code"), plain.drop(columns="code")
    pd.testing.assert_frame_equal(everything, plain, check_exact=name != "c.xlsx")
    query = "SELECT country, count(*) AS n FROM data GROUP BY country ORDER BY country NULLS LAST"
    got = read_table(path, sql=query)
    counts = frame["country"].value_counts(dropna=False)
    assert got["n"].tolist() == [counts["DE"], counts["FR"], counts["UK"], counts[np.nan]]


def test_sql_over_a_csv_uses_the_sniffed_delimiter_and_decimal_comma(tmp_path):
    path = tmp_path / "eu.csv"
    path.write_text("kunde;umsatz;tag\n7;1,5;2024-01-02\n8;12,25;2024-01-03\n", encoding="utf-8")
    got = read_table(path, sql="SELECT kunde, umsatz, tag FROM data WHERE umsatz > 2")
    assert got["kunde"].tolist() == [8] and got["umsatz"].tolist() == [12.25]
    assert got["tag"].iloc[0] == pd.Timestamp("2024-01-03")  # DuckDB types dates
    # thousands separators (which DuckDB does not read): the file goes through pandas
    path.write_text("kunde;umsatz\n7;1,5\n8;1.234,25\n", encoding="utf-8")
    got = read_table(path, sql="SELECT kunde, umsatz FROM data WHERE umsatz > 2")
    assert got["kunde"].tolist() == [8] and got["umsatz"].tolist() == [1234.25]


def test_sql_over_a_file_that_is_not_utf8_after_the_sample(tmp_path):
    path = tmp_path / "latin.csv"
    lines = ["name,spend"] + [f"ascii{i},{i}" for i in range(8000)] + ["Café,1.5"]
    path.write_bytes("\n".join(lines).encode("cp1252"))
    got = read_table(path, sql="SELECT * FROM data WHERE spend = 1.5")
    assert got["name"].tolist() == ["Café"]


def test_duckdb_in_memory_queries_files_by_name(tmp_path):
    a, b = tmp_path / "a.parquet", tmp_path / "b.csv"
    write_table(customers(), a)
    write_table(customers()[["customer_id"]].assign(segment=[0, 1, 0, 1, 2, 2]), b)
    got = read_table(
        "duckdb://",
        sql=f"SELECT segment, sum(spend) AS spend FROM '{a}' JOIN '{b}' USING (customer_id) "
        "GROUP BY segment ORDER BY segment",
    )
    frame = customers().assign(segment=[0, 1, 0, 1, 2, 2])
    np.testing.assert_allclose(got["spend"], frame.groupby("segment")["spend"].sum())


def test_file_sources_refuse_table(tmp_path):
    path = tmp_path / "c.csv"
    write_table(customers(), path)
    with pytest.raises(ValueError, match="table= names a table of a database"):
        read_table(path, table="c")
    with pytest.raises(DatabaseError, match=r"the file is the table data.*nope does not exist"):
        read_table(path, sql="SELECT * FROM nope")
