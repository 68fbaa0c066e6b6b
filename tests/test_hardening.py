"""Bad input everywhere: a clear error or a documented result, never a traceback or a half file.

The matrix of the command-line issue: hypothesis-generated frames with NaN / inf / huge / tiny
values, empty frames, one row, one column, constant columns, duplicated rows and mixed types fed
to every estimator, the workflow and rfm; files that are empty, binary, not UTF-8, with the wrong
delimiter, missing, a folder, and outputs that cannot be written fed to every CLI command.
Each case asserts that nothing the user gave is modified and no partial output is left.

To cover a new estimator, add a line to ``ESTIMATORS``; a new command, a line to
``CLI_COMMANDS``.
"""

from __future__ import annotations

import hashlib
import importlib
import math
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clusterlab.cli import EXIT_OK, EXIT_USAGE, main
from clusterlab.datasets import rfm
from clusterlab.io import read_table, write_table
from tests.test_cli import assert_clean_error, run_cli

# ------------------------------------------------------------------------------ estimators

#: (module, class, parameters) of every estimator under test; a missing module is reported as
#: a skip with its reason (the branch that brings it has not been merged here).
ESTIMATORS = [
    ("clusterlab.cluster.kmeans", "KMeans", {"n_clusters": 2, "n_init": 1, "random_state": 0}),
    ("clusterlab.cluster.minibatch", "MiniBatchKMeans", {"n_clusters": 2, "random_state": 0}),
    ("clusterlab.cluster.bisecting", "BisectingKMeans", {"n_clusters": 2, "random_state": 0}),
    ("clusterlab.cluster.dbscan", "DBSCAN", {"eps": 0.5, "min_samples": 2}),
    ("clusterlab.cluster.hdbscan", "HDBSCAN", {"min_cluster_size": 2}),
]


def make_estimator(module: str, name: str, params: dict):
    try:
        cls = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        pytest.skip(f"{module}.{name} is not on this branch yet")
    return cls(**params)


ESTIMATOR_IDS = [name for _, name, _ in ESTIMATORS]

# The rule every estimator follows (DESIGN.md): NaN / inf in X is a ValueError naming it, no data
# at all is a ValueError, text is a ValueError or TypeError; the caller's array is never written.
BAD_MATRICES = {
    "nan": (np.array([[0.0, 1.0], [np.nan, 2.0], [3.0, 4.0], [5.0, 6.0]]), r"(?i)nan"),
    "inf": (np.array([[0.0, 1.0], [np.inf, 2.0], [3.0, 4.0], [5.0, 6.0]]), r"(?i)inf"),
    "empty": (np.empty((0, 2)), r"(?i)sample|empty|0"),
    "no columns": (np.empty((5, 0)), r"(?i)feature|0"),
    "text": (
        np.array([["a", "b"], ["c", "d"], ["e", "f"]], dtype=object),
        r"(?i)float|string|numer|convert",
    ),
}  # fmt: skip


@pytest.mark.parametrize(("module", "name", "params"), ESTIMATORS, ids=ESTIMATOR_IDS)
@pytest.mark.parametrize("case", list(BAD_MATRICES))
def test_estimator_refuses_bad_matrix(module, name, params, case):
    est = make_estimator(module, name, params)
    X, match = BAD_MATRICES[case]
    before = X.copy()
    with pytest.raises((ValueError, TypeError), match=match):
        est.fit(X)
    np.testing.assert_array_equal(X, before)


def _well_formed(labels: np.ndarray, n: int) -> None:
    labels = np.asarray(labels)
    assert labels.shape == (n,)
    assert labels.dtype == np.int64
    assert labels.min() >= -1


@pytest.mark.parametrize(("module", "name", "params"), ESTIMATORS, ids=ESTIMATOR_IDS)
@pytest.mark.parametrize(
    "case", ["constant", "duplicated", "one column", "huge", "tiny", "float32", "mixed scale"]
)
def test_estimator_awkward_but_valid(module, name, params, case):
    """Degenerate data that is still valid: labels come back well formed, input untouched."""
    rng = np.random.default_rng(0)
    base = rng.normal(size=(40, 3))
    X = {
        "constant": np.ones((40, 3)),
        "duplicated": np.repeat(base[:4], 10, axis=0),
        "one column": base[:, :1],
        "huge": base * 1e150,
        "tiny": base * 1e-150,
        "float32": base.astype(np.float32),
        "mixed scale": base * np.array([1e-8, 1.0, 1e8]),
    }[case]
    before = X.copy()
    est = make_estimator(module, name, params)
    try:
        est.fit(X)
    except (ValueError, TypeError) as exc:  # a documented refusal must say what is wrong
        assert len(str(exc)) > 10
    else:
        _well_formed(est.labels_, len(X))
    np.testing.assert_array_equal(X, before)


@pytest.mark.parametrize(("module", "name", "params"), ESTIMATORS, ids=ESTIMATOR_IDS)
def test_estimator_one_row(module, name, params):
    est = make_estimator(module, name, params)
    X = np.array([[1.0, 2.0]])
    try:
        est.fit(X)
    except ValueError as exc:
        assert "n_samples" in str(exc) or "sample" in str(exc) or "1" in str(exc)
    else:
        _well_formed(est.labels_, 1)


# ------------------------------------------------------------------------------ frames

_values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e308, -1e308, 5e-324, 0.0, -0.0]),
    st.integers(-(2**62), 2**62),
)
# what the workflow is promised to prepare without overflow (see test_workflow_overflow below)
_workflow_values = st.one_of(
    st.floats(min_value=-1e150, max_value=1e150),
    st.just(math.nan),
    st.just(math.inf),
    st.sampled_from([1e-300, 5e-324, 0.0, -0.0]),
    st.integers(-(2**62), 2**62),
)


@st.composite
def nasty_frames(draw, values=_values):
    """Small frames mixing NaN, inf, extremes, text, constants and duplicated rows."""
    n_rows = draw(st.integers(0, 8))
    n_cols = draw(st.integers(1, 4))
    data = {}
    for j in range(n_cols):
        kind = draw(st.sampled_from(["num", "const", "mixed", "text"]))
        if kind == "num":
            col = draw(st.lists(values, min_size=n_rows, max_size=n_rows))
        elif kind == "const":
            col = [draw(values)] * n_rows
        elif kind == "mixed":
            col = draw(
                st.lists(st.one_of(values, st.text(max_size=3), st.none()), min_size=n_rows,
                         max_size=n_rows)
            )  # fmt: skip
        else:
            col = draw(st.lists(st.text(max_size=4), min_size=n_rows, max_size=n_rows))
        data[f"c{j}"] = pd.Series(col, dtype=object if kind in ("mixed", "text") else None)
    frame = pd.DataFrame(data)
    if n_rows and draw(st.booleans()):
        frame = pd.concat([frame, frame.iloc[:1]], ignore_index=True)  # a duplicated row
    return frame


_hs = settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))


@_hs
@given(frame=nasty_frames(_workflow_values))
def test_workflow_setup_on_nasty_frames(frame):
    """The workflow either prepares the frame or raises a ValueError / TypeError saying why."""
    from clusterlab import Experiment

    before = frame.copy()
    try:
        exp = Experiment(frame, normalize=True, session_id=0, verbose=False)
    except (ValueError, TypeError) as exc:
        assert str(exc).strip()
    else:
        X = exp.get_config("X_transformed")
        assert np.isfinite(X.to_numpy(dtype=float)).all()
    pd.testing.assert_frame_equal(frame, before)


def test_workflow_overflow():
    """Finite input whose z-scores overflow gets a clear error, never NaN features."""
    from clusterlab import Experiment

    frame = pd.DataFrame({"c0": [0.0, 0.0, 1e308], "c1": [1.0, 2.0, 3.0]})
    before = frame.copy()
    with pytest.raises(ValueError, match=r"non-finite values in \['[^']*c0[^']*'\]"):
        Experiment(frame, normalize=True, session_id=0, verbose=False)
    pd.testing.assert_frame_equal(frame, before)


@pytest.mark.parametrize("ext", ["csv", "tsv"])
def test_a_bare_carriage_return_stays_inside_its_field(tmp_path, ext):
    """pandas does not quote a field holding a bare \\r, and readers split the row there
    (found by the hypothesis test below)."""
    frame = pd.DataFrame({"c0": ["", "a"], "c1": ["\r0", "b"]})
    write_table(frame, tmp_path / f"t.{ext}")
    back = read_table(tmp_path / f"t.{ext}")
    assert back.shape == frame.shape
    assert back["c1"].tolist() == ["\r0", "b"]


@_hs
@given(frame=nasty_frames())
def test_write_table_on_nasty_frames(tmp_path_factory, frame):
    """Text formats write any frame (or refuse NUL in CSV) and read back the same shape."""
    folder = tmp_path_factory.mktemp("nasty")
    before = frame.copy()
    for ext in ("csv", "jsonl"):
        path = folder / f"t.{ext}"
        try:
            write_table(frame, path)
        except ValueError as exc:  # documented: NUL characters do not go into text tables
            assert ext == "csv" and "NUL character" in str(exc)
            assert not path.exists()
            continue
        if len(frame):
            back = read_table(path)
            assert back.shape == frame.shape
    pd.testing.assert_frame_equal(frame, before)
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no temporary left


@_hs
@given(frame=nasty_frames())
def test_excel_on_nasty_frames(tmp_path_factory, frame):
    """Excel refuses what it cannot hold (inf, > 1e308) with a message, and leaves no file."""
    path = tmp_path_factory.mktemp("xl") / "t.xlsx"
    try:
        write_table(frame, path)
    except ValueError as exc:
        assert "Excel cannot store" in str(exc)
        assert list(path.parent.iterdir()) == []
    else:
        assert path.is_file()


# ------------------------------------------------------------------------------ rfm

_tx = st.fixed_dictionaries(
    {
        "customer": st.one_of(st.none(), st.sampled_from(["a", "b", "c"])),
        "date": st.one_of(
            st.none(),
            st.datetimes(
                min_value=pd.Timestamp("2020-01-01").to_pydatetime(),
                max_value=pd.Timestamp("2020-12-31").to_pydatetime(),
            ),
        ),
        "invoice": st.sampled_from(["1", "2", "C3", "c4", "5"]),
        "quantity": st.one_of(st.integers(-5, 5), st.just(math.nan)),
        "price": st.one_of(
            st.floats(min_value=-10, max_value=1e6), st.just(math.nan), st.just(math.inf)
        ),
    }
)


@_hs
@given(rows=st.lists(_tx, max_size=12))
def test_rfm_on_nasty_logs(rows):
    log = pd.DataFrame(rows, columns=["customer", "date", "invoice", "quantity", "price"])
    before = log.copy()
    args = {"customer": "customer", "date": "date", "quantity": "quantity", "price": "price"}
    try:
        table = rfm(log, invoice="invoice", **args)
    except ValueError as exc:
        message = str(exc)
        assert (
            "infinite" in message or "no transaction lines" in message or "no purchases" in message
        )
    else:
        assert table.index.is_unique and table.index.notna().all()
        assert (table["frequency"] >= 1).all() and (table["recency"] >= 1).all()
        assert np.isfinite(table["monetary"]).all()
        assert set(table.index) <= set(log["customer"].dropna())
    pd.testing.assert_frame_equal(log, before)


# ------------------------------------------------------------------------------ files for the CLI


def _digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def _bad_files(folder: Path) -> dict[str, tuple[Path, str]]:
    """name -> (path, text the error must contain)."""
    (folder / "empty.csv").write_bytes(b"")
    (folder / "blank.csv").write_text("\n\n")
    (folder / "binary.csv").write_bytes(bytes(range(256)) * 4)
    (folder / "header_only.csv").write_text("a,b,c\n")
    (folder / "a_folder.csv").mkdir()
    (folder / "ragged.csv").write_text("a,b\n1,2\n1,2,3,4\n")
    (folder / "fake.parquet").write_text("a,b\n1,2\n")
    (folder / "table.docx").write_text("a,b\n1,2\n")
    return {
        "missing": (folder / "missing.csv", "no such file"),
        "empty": (folder / "empty.csv", "is empty"),
        "blank": (folder / "blank.csv", "is empty"),
        "binary": (folder / "binary.csv", "not a text table"),
        "header only": (folder / "header_only.csv", "no data rows"),
        "folder": (folder / "a_folder.csv", "is a folder"),
        "ragged": (folder / "ragged.csv", "cannot read it as delimited text"),
        "not parquet": (folder / "fake.parquet", "not a valid parquet file"),
        "unknown extension": (folder / "table.docx", "unknown table format"),
    }


#: every command that reads a table, with the options it needs besides INPUT and --out
CLI_COMMANDS = {
    "segment": ["segment", "{input}", "--model", "kmeans", "--k", "2", "--out", "{out}"],
    "compare": ["compare", "{input}", "--include", "kmeans", "--out", "{out}"],
    "profile": ["profile", "{input}", "--labels", "s", "--out", "{out}"],
    "anomalies": ["anomalies", "{input}", "--model", "kmeans", "--k", "2", "--out", "{out}"],
    "rfm": ["rfm", "{input}", "--customer", "c", "--date", "d", "--amount", "s", "--out", "{out}"],
    "predict": ["predict", "{model}", "{input}", "--out", "{out}"],
}


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bad")
    files = _bad_files(folder)
    return folder, files, {name: _digest(path) for name, (path, _) in files.items()}


@pytest.mark.parametrize("command", list(CLI_COMMANDS))
def test_cli_bad_input_files(command, bad_files, tmp_path, capsys):
    """Every bad file, every command: exit 2, one or two lines, no output, input unchanged."""
    _, files, digests = bad_files
    model = tmp_path / "model.clusterlab"
    model.write_bytes(b"PK\x03\x04 not really a model")
    for case, (path, match) in files.items():
        out = tmp_path / f"out_{case.replace(' ', '_')}.csv"
        argv = [a.format(input=path, out=out, model=model) for a in CLI_COMMANDS[command]]
        code = main(argv)
        err = capsys.readouterr().err
        assert code == EXIT_USAGE, (case, err)
        assert "Traceback" not in err
        lines = [line for line in err.splitlines() if line.strip()]
        assert 1 <= len(lines) <= 2, (case, err)
        if command != "predict":  # predict reads the model first and stops there
            assert match in err, (case, err)
        assert not out.exists(), case
        assert _digest(path) == digests[case], case
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.clusterlab"]


@pytest.fixture
def good_table(tmp_path):
    frame = pd.DataFrame(
        {
            "x": [1.0, 2.0, 3.0, 10.0, 11.0, 12.0],
            "y": [1.0, 1.5, 1.2, 9.0, 9.5, 9.1],
            "s": [0, 0, 0, 1, 1, 1],
            "c": ["a", "a", "b", "b", "c", "c"],
            "d": ["2024-01-0" + str(i) for i in range(1, 7)],
        }
    )
    path = tmp_path / "good.csv"
    write_table(frame, path)
    return path


@pytest.mark.parametrize("command", [c for c in CLI_COMMANDS if c != "predict"])
def test_cli_unwritable_outputs(command, good_table, tmp_path, capsys):
    """Outputs over the input, in a missing folder, onto a folder, or existing: exit 2 first."""
    digest = _digest(good_table)
    (tmp_path / "exists.csv").write_text("keep\n")
    (tmp_path / "dir.csv").mkdir()
    cases = {
        str(good_table): "refusing to write over the input file",
        str(tmp_path / "no" / "such" / "out.csv"): "does not exist",
        str(tmp_path / "dir.csv"): "is a folder",
        str(tmp_path / "exists.csv"): "exists; use --force",
        str(tmp_path / "out.pdf"): "unknown table format",
    }
    for out, match in cases.items():
        argv = [a.format(input=good_table, out=out) for a in CLI_COMMANDS[command]]
        code = main(argv)
        err = capsys.readouterr().err
        assert code == EXIT_USAGE, (out, err)
        assert match in err, (out, err)
        assert "Traceback" not in err
    assert _digest(good_table) == digest
    assert (tmp_path / "exists.csv").read_text() == "keep\n"
    assert not (tmp_path / "out.pdf").exists()


def test_cli_non_utf8_and_wrong_delimiter_are_read(tmp_path, capsys):
    """Documented results: cp1252 is read with a warning; a .tsv with commas is read as CSV."""
    latin = tmp_path / "latin.csv"
    latin.write_bytes("x,s,name\n1,0,café\n2,0,thé\n9,1,crème\n".encode("cp1252"))
    assert main(["profile", str(latin), "--labels", "s"]) == EXIT_OK
    assert "read it as cp1252" in capsys.readouterr().err
    commas = tmp_path / "commas.tsv"
    commas.write_text("x,s\n1,0\n2,0\n9,1\n")
    assert main(["profile", str(commas), "--labels", "s"]) == EXIT_OK
    assert "not by tabs" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("x,y\n1,2\n", "no usable feature columns"),  # one row: every column is constant
        ("x,y\nnan,nan\nnan,nan\nnan,nan\n", ""),  # nothing but missing values
        ("name,city\nann,lisbon\nbob,porto\ncid,faro\n", ""),  # text only
    ],
)
def test_cli_segment_degenerate_tables(tmp_path, content, match):
    """Through a real process: a clear exit-2 line, never a traceback, no output written."""
    source = tmp_path / "in.csv"
    source.write_text(content)
    out = tmp_path / "out.csv"
    result = run_cli("segment", str(source), "--model", "kmeans", "--k", "2", "--out", str(out))
    assert result.returncode in (EXIT_USAGE, EXIT_OK), result.stderr
    assert "Traceback" not in result.stderr
    if result.returncode == EXIT_USAGE:
        assert_clean_error(result, EXIT_USAGE, match)
        assert not out.exists()
    else:
        assert len(read_table(out)) == len(read_table(source))
    assert source.read_text() == content


def test_cli_interrupted_write_leaves_no_file(tmp_path):
    """A process killed while writing leaves the old file or nothing, never half a table."""
    code = (
        "import os, pandas as pd\n"
        "from clusterlab import io\nimport clusterlab.io.files\n"
        "real = io.files._write_format\n"
        "def dying(table, tmp, fmt, *, member):\n"
        "    real(table, tmp, fmt, member=member)\n"
        "    os._exit(9)\n"
        "io.files._write_format = dying\n"
        f"io.write_table(pd.DataFrame({{'a': range(1000)}}), {str(tmp_path / 'o.csv')!r})\n"
    )
    env_src = str(Path(__file__).resolve().parents[1] / "src")
    result = subprocess.run(
        [__import__("sys").executable, "-c", code],
        env={**__import__("os").environ, "PYTHONPATH": env_src},
        capture_output=True,
        check=False,
    )
    assert result.returncode == 9
    assert not (tmp_path / "o.csv").exists()
