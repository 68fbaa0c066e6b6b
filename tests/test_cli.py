"""The command line: subprocess runs end to end, exit codes, error lines, files written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from clusterlab.cli import EXIT_ERROR, EXIT_OK, EXIT_USAGE, _commands, build_parser, main
from clusterlab.io import read_table, write_table

SRC = Path(__file__).resolve().parents[1] / "src"


def run_cli(
    *args: str, cwd: Path | None = None, timeout: float = 120
) -> subprocess.CompletedProcess:
    """``python -m clusterlab ARGS`` in a fresh interpreter."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), env.get("PYTHONPATH", "")])
    env["COLUMNS"] = "120"
    return subprocess.run(
        [sys.executable, "-m", "clusterlab", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=timeout,
        check=False,
    )


def assert_clean_error(result: subprocess.CompletedProcess, code: int, match: str) -> None:
    """Exit code as documented, one or two lines on stderr naming the problem, no traceback."""
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert 1 <= len(lines) <= 2, result.stderr
    assert match in result.stderr, result.stderr


COMMANDS = [action for action in build_parser()._subparsers._group_actions[0].choices]


# ------------------------------------------------------------------------------ help, version


def test_help_is_cheap():
    # --help must answer at once: building the parser imports no numpy, pandas, rich or numba
    code = (
        "import sys; from clusterlab.cli import build_parser; build_parser(); "
        "heavy = {'numpy', 'pandas', 'rich', 'numba', 'sklearn', 'matplotlib'} & set(sys.modules); "
        "print(sorted(heavy))"
    )
    env = dict(os.environ, PYTHONPATH=str(SRC))
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert out.stdout.strip() == "[]", out.stderr


def test_help_and_version():
    result = run_cli("--help")
    assert result.returncode == EXIT_OK
    for command in COMMANDS:
        assert command in result.stdout
    assert "exit codes: 0 ok, 2 bad usage or input, 1 internal error" in result.stdout
    version = run_cli("--version")
    assert version.returncode == EXIT_OK
    from clusterlab import __version__

    assert version.stdout.strip() == f"clusterlab {__version__}"


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_examples(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out
    assert f"clusterlab {command}" in out.split("examples:")[1]


def test_no_command_prints_help(capsys):
    assert main([]) == EXIT_USAGE
    assert "commands:" in capsys.readouterr().out


def test_bad_usage_exit_code():
    result = run_cli("profile", "x.csv", "--labels", "s", "--nope")
    assert result.returncode == EXIT_USAGE
    assert "unrecognized arguments: --nope" in result.stderr
    assert "Traceback" not in result.stderr


# ------------------------------------------------------------------------------ profile


@pytest.fixture(scope="module")
def labelled(tmp_path_factory, wholesale):
    folder = tmp_path_factory.mktemp("labelled")
    frame = wholesale.assign(kind=wholesale["Channel"].map({1: "horeca", 2: "retail"}))
    for ext in ("csv", "parquet", "xlsx", "jsonl"):
        write_table(frame, folder / f"wholesale.{ext}")
    return folder


@pytest.mark.parametrize("ext", ["csv", "parquet", "xlsx", "jsonl"])
def test_profile_every_format(labelled, tmp_path, ext):
    out = tmp_path / "profiles.csv"
    source = labelled / f"wholesale.{ext}"
    result = run_cli(
        "profile", str(source), "--labels", "Channel", "--ignore", "Region", "kind",
        "--out", str(out),
    )  # fmt: skip
    assert result.returncode == EXIT_OK, result.stderr
    assert "2 segments" in result.stdout
    table = read_table(out)
    assert table.columns[:3].tolist() == ["segment", "size", "share"]
    assert table["size"].tolist() == [298, 142]
    assert "description" in table.columns


def test_profile_text_labels_keep_their_names(labelled, capsys):
    code = main(["profile", str(labelled / "wholesale.csv"), "--labels", "kind", "--ignore",
                 "Channel", "--rules"])  # fmt: skip
    assert code == EXIT_OK
    out = capsys.readouterr().out
    assert "horeca" in out and "retail" in out
    assert "fidelity" in out


def test_profile_quiet_prints_only_the_path(labelled, tmp_path, capsys):
    out = tmp_path / "p.parquet"
    code = main(["profile", str(labelled / "wholesale.csv"), "--labels", "Channel", "-q",
                 "--out", str(out)])  # fmt: skip
    assert code == EXIT_OK
    assert capsys.readouterr().out.strip() == str(out)
    assert read_table(out)["size"].sum() == 440


def test_profile_errors(labelled, tmp_path, capsys):
    source = str(labelled / "wholesale.csv")
    assert main(["profile", source, "--labels", "Chanel"]) == EXIT_USAGE
    assert "'Chanel' is not a column of the input; did you mean Channel?" in capsys.readouterr().err
    everything = ["Region", "Fresh", "Milk", "Grocery", "Frozen", "Detergents_Paper"]
    assert main(["profile", source, "--labels", "Channel", "--ignore", *everything,
                 "Delicassen", "kind"]) == EXIT_USAGE  # fmt: skip
    assert "no feature columns left" in capsys.readouterr().err
    gaps = tmp_path / "gaps.csv"
    gaps.write_text("x,seg\n1,0\n2,\n3,1\n")
    assert main(["profile", str(gaps), "--labels", "seg"]) == EXIT_USAGE
    assert "has 1 missing values" in capsys.readouterr().err


def test_profile_refuses_existing_output_before_working(labelled, tmp_path):
    out = tmp_path / "p.csv"
    out.write_text("precious\n")
    result = run_cli("profile", str(labelled / "wholesale.csv"), "--labels", "Channel",
                     "--out", str(out))  # fmt: skip
    assert_clean_error(result, EXIT_USAGE, "exists; use --force")
    assert out.read_text() == "precious\n"
    forced = run_cli("profile", str(labelled / "wholesale.csv"), "--labels", "Channel",
                     "--out", str(out), "--force")  # fmt: skip
    assert forced.returncode == EXIT_OK
    assert read_table(out)["size"].sum() == 440


def test_output_over_input_refused(labelled, tmp_path):
    source = tmp_path / "in.csv"
    source.write_bytes((labelled / "wholesale.csv").read_bytes())
    before = source.read_bytes()
    result = run_cli("profile", str(source), "--labels", "Channel", "--out", str(source),
                     "--force")  # fmt: skip
    assert_clean_error(result, EXIT_USAGE, "refusing to write over the input file")
    assert source.read_bytes() == before


# ------------------------------------------------------------------------------ rfm


@pytest.fixture
def transactions(tmp_path):
    frame = pd.DataFrame(
        {
            "cust": ["A", "A", "A", "B", None],
            "day": ["2024-01-01", "2024-01-01", "2024-01-10", "2024-01-15", "2024-01-20"],
            "inv": ["1", "1", "C2", "3", "4"],
            "qty": [2, 1, -1, 4, 9],
            "price": [5.0, 3.0, 3.0, 2.5, 1.0],
        }
    )
    path = tmp_path / "tx.csv"
    write_table(frame, path)
    return path


@pytest.mark.parametrize("ext", ["csv", "parquet", "xlsx", "tsv"])
def test_rfm_command(transactions, tmp_path, ext):
    out = tmp_path / f"rfm.{ext}"
    result = run_cli(
        "rfm", str(transactions), "--customer", "cust", "--date", "day", "--quantity", "qty",
        "--price", "price", "--invoice", "inv", "--out", str(out),
    )  # fmt: skip
    assert result.returncode == EXIT_OK, result.stderr
    assert "2 customers from 5 transaction lines" in result.stdout
    table = read_table(out)
    assert table.to_dict("list") == {
        "cust": ["A", "B"],
        "recency": [15, 1],
        "frequency": [1, 1],
        "monetary": [10.0, 10.0],
    }


def test_rfm_needs_values(transactions):
    result = run_cli("rfm", str(transactions), "--customer", "cust", "--date", "day")
    assert_clean_error(result, EXIT_USAGE, "give --amount COL, or --quantity COL and --price COL")


def test_rfm_bad_column_and_date(transactions):
    result = run_cli("rfm", str(transactions), "--customer", "cust", "--date", "dya",
                     "--amount", "price")  # fmt: skip
    assert_clean_error(result, EXIT_USAGE, "'dya' is not a column of the input; did you mean day")
    result = run_cli("rfm", str(transactions), "--customer", "cust", "--date", "inv",
                     "--amount", "price")  # fmt: skip
    assert_clean_error(result, EXIT_USAGE, "date='inv' must hold dates; got '1' in row 0")


# ------------------------------------------------------------------------------ datasets


def test_datasets_command(capsys):
    assert main(["datasets"]) == EXIT_OK
    assert "bundled" in capsys.readouterr().out
    assert main(["datasets", "-q"]) == EXIT_OK
    assert capsys.readouterr().out.split() == [
        "wholesale_customers",
        "jewellery",
        "mice",
        "online_retail",
        "clustering_benchmarks",
    ]


# ------------------------------------------------------------------------------ errors


def test_internal_error_is_exit_1_without_traceback(monkeypatch, capsys):
    def broken(args, ui):
        raise RuntimeError("something impossible")

    monkeypatch.setattr(_commands, "cmd_datasets", broken)
    assert main(["datasets"]) == EXIT_ERROR
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: something impossible" in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 2


def test_debug_shows_the_traceback(monkeypatch, capsys):
    def broken(args, ui):
        raise ValueError("bad thing")

    monkeypatch.setattr(_commands, "cmd_datasets", broken)
    assert main(["datasets", "--debug"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "Traceback" in err and "bad thing" in err


def test_missing_extra_is_a_usage_error(monkeypatch, tmp_path, capsys):
    path = tmp_path / "t.parquet"
    write_table(pd.DataFrame({"x": [1.0, 2.0], "s": [0, 1]}), path)
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    assert main(["profile", str(path), "--labels", "s"]) == EXIT_USAGE
    assert "pip install clusterlab[parquet]" in capsys.readouterr().err


def test_warnings_go_to_stderr(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("name,x,seg\ncafé,1,0\nthé,2,1\n".encode("cp1252"))
    result = run_cli("profile", str(path), "--labels", "seg")
    assert result.returncode == EXIT_OK, result.stderr
    assert "not valid UTF-8; read it as cp1252" in result.stderr
    quiet = run_cli("profile", str(path), "--labels", "seg", "--quiet")
    assert quiet.stderr == "" and quiet.stdout == ""


# ------------------------------------------------------------------------------ demo


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo") / "out"
    return folder, run_cli("demo", "--out", str(folder), timeout=900)


def test_demo(demo_run, wholesale):
    folder, result = demo_run
    assert result.returncode == EXIT_OK, result.stderr
    assert "Traceback" not in result.stderr
    labelled = read_table(folder / "wholesale_segments.csv")
    assert labelled.columns.tolist() == [*wholesale.columns, "segment"]
    pd.testing.assert_frame_equal(labelled[wholesale.columns], wholesale)
    clusters = sorted(set(labelled["segment"]) - {-1})
    assert clusters == list(range(len(clusters))) and len(clusters) >= 2
    report = (folder / "wholesale_report.html").read_text(encoding="utf-8")
    assert report.lstrip().lower().startswith("<!doctype html")
    assert "http://" not in report and "https://" not in report.split("</head>")[0]
    # the model file labels the data as the run did
    from clusterlab.persistence import load_model

    model = load_model(folder / "wholesale_segments.clusterlab")
    assert model.predict(wholesale).tolist() == labelled["segment"].tolist()
    # the run ends by naming the report
    last = result.stdout.strip().splitlines()[-1]
    assert last.endswith(str(folder / "wholesale_report.html"))
    # it compares the demo's models and says how to compare every model
    assert (
        f"models compared: {', '.join(_commands.DEMO_MODELS)} (clusterlab demo --all"
        in " ".join(result.stdout.split())
    )
    assert model.model_id in _commands.DEMO_MODELS  # the model chosen is one of them


def test_demo_out_is_a_file(tmp_path):
    target = tmp_path / "taken"
    target.write_text("x")
    assert main(["demo", "--out", str(target)]) == EXIT_USAGE
    assert target.read_text() == "x"


def test_demo_all_compares_every_model():
    assert build_parser().parse_args(["demo"]).all is False
    assert build_parser().parse_args(["demo", "--all"]).all is True
    assert _commands._demo_models_line(None).startswith("models compared: every model\n")
    assert "--all" in _commands._demo_models_line(list(_commands.DEMO_MODELS))


# ------------------------------------------------------------------------------ workflow commands


@pytest.fixture(scope="module")
def segmented(tmp_path_factory, wholesale):
    """One `segment` run on a sampled wholesale table with a custom index; model and output."""
    folder = tmp_path_factory.mktemp("segment")
    source = folder / "customers.parquet"
    frame = wholesale.set_axis(pd.Index([f"c{i}" for i in range(440)], name="customer"))
    write_table(frame, source)
    result = run_cli(
        "segment", str(source), "--ignore", "Region", "--ground-truth", "Channel", "--log",
        "--model", "kmeans", "--k", "3", "--out", str(folder / "labelled.csv"),
        "--save-model", str(folder / "model"), "--report", str(folder / "report.html"),
        timeout=900,
    )  # fmt: skip
    return folder, frame, result


def test_segment_outputs(segmented):
    folder, frame, result = segmented
    assert result.returncode == EXIT_OK, result.stderr
    assert "chosen: kmeans" in result.stdout
    assert "what sets each segment apart" in result.stdout
    labelled = read_table(folder / "labelled.csv")
    # the row index is preserved as the first column, every row and column kept, labels added
    assert labelled.columns.tolist() == ["customer", *frame.columns, "segment"]
    assert labelled["customer"].tolist() == frame.index.tolist()
    assert sorted(labelled["segment"].unique()) == [0, 1, 2]
    assert (folder / "model.clusterlab").is_file()
    assert "<html" in (folder / "report.html").read_text(encoding="utf-8").lower()
    assert sorted(p.name for p in folder.iterdir()) == [
        "customers.parquet", "labelled.csv", "model.clusterlab", "report.html",
    ]  # fmt: skip


def test_predict_with_saved_model(segmented, tmp_path):
    folder, frame, _ = segmented
    new = tmp_path / "new.jsonl"
    write_table(frame.iloc[:25].drop(columns=["Channel"]), new)
    out = tmp_path / "new_labelled.xlsx"
    result = run_cli("predict", str(folder / "model.clusterlab"), str(new), "--out", str(out))
    assert result.returncode == EXIT_OK, result.stderr
    predicted = read_table(out)
    training = read_table(folder / "labelled.csv")
    assert predicted["segment"].tolist() == training["segment"].iloc[:25].tolist()
    assert len(predicted) == 25


def test_predict_errors(segmented, tmp_path):
    folder, frame, _ = segmented
    not_a_model = folder / "labelled.csv"
    result = run_cli(
        "predict", str(not_a_model), str(not_a_model), "--out", str(tmp_path / "o.csv")
    )
    assert_clean_error(result, EXIT_USAGE, "is not a clusterlab file")
    lacking = tmp_path / "lacking.csv"
    write_table(frame[["Fresh", "Milk"]], lacking)
    result = run_cli("predict", str(folder / "model.clusterlab"), str(lacking), "--out",
                     str(tmp_path / "o.csv"))  # fmt: skip
    assert_clean_error(result, EXIT_USAGE, "lacks the feature columns")
    assert not (tmp_path / "o.csv").exists()


@pytest.mark.parametrize("fmt", ["csv", "json", "markdown"])
def test_compare_formats(labelled, fmt):
    result = run_cli("compare", str(labelled / "wholesale.csv"), "--ignore", "Region", "Channel",
                     "kind", "--log", "--include", "kmeans", "gmm", "--format", fmt)  # fmt: skip
    assert result.returncode == EXIT_OK, result.stderr
    if fmt == "csv":
        from io import StringIO

        board = pd.read_csv(StringIO(result.stdout))
        assert sorted(board["Model"]) == ["gmm", "kmeans"]
        assert "Silhouette" in board.columns
    elif fmt == "json":
        import json

        assert sorted(r["Model"] for r in json.loads(result.stdout)) == ["gmm", "kmeans"]
    else:
        lines = result.stdout.strip().splitlines()
        assert lines[0].startswith("| Model |") and lines[1].startswith("|---")
        assert len(lines) == 4


def test_models_command(capsys):
    assert main(["models", "--format", "csv"]) == EXIT_OK
    from io import StringIO

    table = pd.read_csv(StringIO(capsys.readouterr().out))
    assert {"kmeans", "dbscan", "hdbscan"} <= set(table["ID"])


def test_anomalies_command(labelled, tmp_path):
    out = tmp_path / "scores.csv"
    result = run_cli("anomalies", str(labelled / "wholesale.csv"), "--ignore", "Region", "Channel",
                     "kind", "--log", "--model", "kmeans", "--k", "3", "--top", "5",
                     "--out", str(out))  # fmt: skip
    assert result.returncode == EXIT_OK, result.stderr
    assert "the 5 most anomalous rows" in result.stdout
    scores = read_table(out)
    assert len(scores) == 440
    assert scores["anomaly_score"].between(0, 1).all()


def test_workflow_usage_errors(labelled):
    source = str(labelled / "wholesale.csv")
    result = run_cli("segment", source, "--model", "nosuchmodel")
    assert_clean_error(result, EXIT_USAGE, "nosuchmodel")
    result = run_cli("segment", source, "--k", "zero")
    assert result.returncode == EXIT_USAGE and "expected a whole number" in result.stderr
    result = run_cli("segment", source, "--ignore", "Nope")
    assert_clean_error(result, EXIT_USAGE, "'Nope' is not a column of the input")
    result = run_cli("segment", source, "--label-name", "Milk")
    assert_clean_error(result, EXIT_USAGE, "--label-name 'Milk' is already a column")
    result = run_cli("segment", source, "--report", "report.pdf")
    assert_clean_error(result, EXIT_USAGE, "the report is HTML")
