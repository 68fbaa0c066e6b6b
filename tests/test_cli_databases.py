"""The command line with databases: --table / --sql on inputs, --out-table / --if-exists on
outputs, a PostgreSQL round trip, and the password in no output."""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd
import pytest

from clusterlab.cli import EXIT_OK, EXIT_USAGE, main
from clusterlab.io import read_table, write_table
from tests import postgres as pg
from tests.test_cli import SRC, assert_clean_error, run_cli

SEGMENT = ["--ignore", "Region", "Channel", "customer_id", "--model", "kmeans", "--k", "3"]


@pytest.fixture(scope="module")
def customers(wholesale):
    return wholesale.assign(customer_id=range(100_001, 100_001 + len(wholesale)))[
        ["customer_id", *wholesale.columns]
    ]


def run_cli_at_once(*argvs: list[str]) -> list[subprocess.CompletedProcess]:
    """``python -m clusterlab ARGS`` for each ARGS, the interpreters started together (each
    spends most of its time importing)."""
    env = {**os.environ, "COLUMNS": "120"}
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), env.get("PYTHONPATH", "")])
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "clusterlab", *argv],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for argv in argvs
    ]
    results = []
    for argv, process in zip(argvs, processes, strict=True):
        out, err = process.communicate(timeout=300)
        results.append(subprocess.CompletedProcess(argv, process.returncode, out, err))
    return results


def cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_segment_from_and_back_to_duckdb(customers, tmp_path, capsys):
    shop = tmp_path / "shop.duckdb"
    write_table(customers, shop, table="customers")
    csv = tmp_path / "customers.csv"
    write_table(customers, csv)
    code, out, err = cli(
        capsys, "segment", str(shop), "--table", "customers", *SEGMENT,
        "--out", str(shop), "--out-table", "segments",
    )  # fmt: skip
    assert code == EXIT_OK, err
    assert f"labelled data: {shop} table segments" in out
    segments = read_table(shop, table="segments")
    code, _, err = cli(capsys, "segment", str(csv), *SEGMENT, "--out", str(tmp_path / "s.csv"))
    assert code == EXIT_OK, err
    from_csv = read_table(tmp_path / "s.csv")
    # the database path gives the CSV path's segments and keys, and the keys keep their type
    pd.testing.assert_frame_equal(segments, from_csv)
    assert segments["customer_id"].dtype == "int64"
    assert segments["customer_id"].tolist() == customers["customer_id"].tolist()


def test_if_exists_on_the_command_line(customers, tmp_path, capsys):
    shop = f"duckdb:///{tmp_path / 'shop.duckdb'}"
    write_table(customers, shop, table="customers")
    # profile is the cheapest command with an output: write the same table three times
    base = [
        "profile", shop, "--sql", "SELECT *, customer_id % 3 AS seg FROM customers",
        "--labels", "seg", "--ignore", "customer_id", "--out", shop, "--out-table", "p",
    ]  # fmt: skip
    assert cli(capsys, *base)[0] == EXIT_OK
    code, _, err = cli(capsys, *base)
    assert code == EXIT_USAGE
    assert "table 'p' exists" in err and "--if-exists replace" in err
    assert cli(capsys, *base, "--if-exists", "replace")[0] == EXIT_OK
    assert len(read_table(shop, table="p")) == 3
    assert cli(capsys, *base, "--if-exists", "append")[0] == EXIT_OK
    assert len(read_table(shop, table="p")) == 6


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["--table", "t"], "--table names a table of a database; INPUT"),
        (["--out-table", "t"], "--out-table and --if-exists need --out"),
        (["--out", "OUT.duckdb"], "is a database: name the table with --out-table"),
        (["--out", "OUT.csv", "--out-table", "t"], "--out-table names a table of a database"),
        (["--out", "OUT.csv", "--if-exists", "append"], "--if-exists append adds rows"),
        (["--out", "OUT.duckdb", "--out-table", "t", "--force"], "to replace a table use"),
    ],
)
def test_usage_errors(customers, tmp_path, capsys, args, match):
    csv = tmp_path / "c.csv"
    write_table(customers, csv)
    args = [a.replace("OUT", str(tmp_path / "out")) for a in args]
    code, _, err = cli(capsys, "profile", str(csv), "--labels", "Channel", *args)
    assert code == EXIT_USAGE
    assert match in err
    assert not (tmp_path / "out.duckdb").exists()


def test_database_input_needs_a_table_or_a_query(customers, tmp_path, capsys):
    shop = tmp_path / "shop.duckdb"
    write_table(customers, shop, table="customers")
    code, _, err = cli(capsys, "profile", str(shop), "--labels", "Channel")
    assert code == EXIT_USAGE and "name the table with --table NAME" in err
    code, _, err = cli(
        capsys, "profile", str(shop), "--table", "customers", "--labels", "Channel",
        "--out", str(shop), "--out-table", "CUSTOMERS", "--if-exists", "replace",
    )  # fmt: skip
    assert code == EXIT_USAGE and "refusing to write over the input table" in err
    assert len(read_table(shop, table="customers")) == len(customers)


def test_sql_over_a_file_input(customers, tmp_path, capsys):
    csv = tmp_path / "c.csv"
    write_table(customers, csv)
    out = tmp_path / "p.csv"
    code, stdout, err = cli(
        capsys, "profile", str(csv), "--sql", "SELECT * FROM data WHERE Channel = 2",
        "--labels", "Region", "--ignore", "customer_id", "--out", str(out),
    )  # fmt: skip
    assert code == EXIT_OK, err
    assert f"in {csv} (query)" in " ".join(stdout.split())
    retail = customers[customers["Channel"] == 2]
    assert read_table(out)["size"].sum() == len(retail)


# ------------------------------------------------------------------------------ PostgreSQL


def test_postgres_round_trip_without_showing_the_password(postgres, customers, tmp_path):
    """INPUT and --out on a real server, with -v and with --debug errors: the password appears in
    no output, and the table written back holds every customer with its key and segment."""
    url = postgres.url()
    write_table(customers, url, table="pg_customers", if_exists="replace")
    common = ["-v", "--debug", *SEGMENT]
    ok = run_cli(
        "segment", url, "--table", "pg_customers", *common,
        "--out", url, "--out-table", "pg_segments", "--if-exists", "replace",
        timeout=300,
    )  # fmt: skip
    assert ok.returncode == EXIT_OK, ok.stderr
    back = read_table(url, table="pg_segments")
    assert back["customer_id"].tolist() == customers["customer_id"].tolist()
    assert back["customer_id"].dtype == "int64"
    assert sorted(back["segment"].unique()) == [0, 1, 2]
    wrong = url.replace(pg.PASSWORD, pg.PASSWORD[::-1])
    failures = run_cli_at_once(
        ["segment", wrong, "--table", "pg_customers", *common],
        ["segment", url, "--table", "nope", *common],
        ["segment", url, "--sql", "SELECT nope", *common],
        ["segment", url, "--table", "pg_customers", *SEGMENT, "--out", url,
         "--out-table", "pg_segments"],
    )  # fmt: skip
    for result in failures:
        assert result.returncode == EXIT_USAGE, result.stderr
    assert_clean_error(failures[-1], EXIT_USAGE, "table 'pg_segments' exists")
    for result in [ok, *failures]:
        for secret in (pg.PASSWORD, pg.PASSWORD[::-1]):
            assert secret not in result.stdout and secret not in result.stderr
    assert "password authentication failed" in failures[0].stderr
    assert ":***@127.0.0.1" in failures[0].stderr
