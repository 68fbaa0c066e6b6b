"""clusterlab.io: format by extension, sniffing, encodings, clear errors, safe writes."""

from __future__ import annotations

import gzip
import logging
import math
import os
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from clusterlab.io import FileFormatError, read_table, table_format, write_table
from clusterlab.io import files as cio

# ------------------------------------------------------------------------------------ formats


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.csv", ("csv", None)),
        ("a.CSV", ("csv", None)),
        ("a.tsv", ("tsv", None)),
        ("a.txt", ("csv", None)),
        ("a.csv.gz", ("csv", "gzip")),
        ("a.tsv.bz2", ("tsv", "bz2")),
        ("a.jsonl.xz", ("jsonl", "xz")),
        ("a.csv.zip", ("csv", "zip")),
        ("a.parquet", ("parquet", None)),
        ("a.pq", ("parquet", None)),
        ("a.xlsx", ("excel", None)),
        ("a.ndjson", ("jsonl", None)),
        ("dots.in.name.json", ("json", None)),
    ],
)
def test_table_format(name, expected):
    assert table_format(name) == expected


@pytest.mark.parametrize("name", ["a.xls", "a", "a.gz", "a.parquet.gz", "a.docx", "a.csv.7z"])
def test_unknown_extension(name, tmp_path):
    with pytest.raises(FileFormatError, match="unknown table format"):
        table_format(name)
    with pytest.raises(FileFormatError, match="unknown table format"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / name)


# ------------------------------------------------------------------------------------ sniffing


def _write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_delimiter_sniffed(tmp_path, sep):
    text = sep.join(["id", "name", "value"]) + "\n"
    text += "".join(sep.join([str(i), f"n{i}", f"{i}.5"]) + "\n" for i in range(5))
    frame = read_table(_write(tmp_path / "a.csv", text))
    assert list(frame.columns) == ["id", "name", "value"]
    assert frame["value"].tolist() == [0.5, 1.5, 2.5, 3.5, 4.5]


def test_quoted_commas_do_not_fool_the_sniffer(tmp_path):
    text = 'a;b\n"x, y, z";1\n"u, v";2\n'
    frame = read_table(_write(tmp_path / "a.csv", text))
    assert frame.shape == (2, 2)
    assert frame["a"].tolist() == ["x, y, z", "u, v"]


def test_decimal_comma_and_thousands(tmp_path):
    text = "city;sales;share\nLisboa;1.234,50;0,25\nPorto;987,25;0,75\n"
    frame = read_table(_write(tmp_path / "a.csv", text))
    assert frame["sales"].tolist() == [1234.5, 987.25]
    assert frame["share"].tolist() == [0.25, 0.75]


def test_explicit_sep_and_decimal_win(tmp_path):
    text = "a;b\n1,5;2\n"
    frame = read_table(_write(tmp_path / "a.csv", text), sep=";", decimal=".")
    assert frame["a"].tolist() == ["1,5"]


def test_tsv_that_is_comma_separated(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="clusterlab.io"):
        frame = read_table(_write(tmp_path / "a.tsv", "a,b\n1,2\n3,4\n"))
    assert frame.shape == (2, 2)
    assert "not by tabs" in caplog.text


def test_single_column(tmp_path):
    frame = read_table(_write(tmp_path / "a.csv", "value\n1\n2\n3\n"))
    assert frame.columns.tolist() == ["value"]
    assert frame["value"].tolist() == [1, 2, 3]


def test_header_only_gives_empty_frame(tmp_path):
    frame = read_table(_write(tmp_path / "a.csv", "a,b,c\n"))
    assert frame.shape == (0, 3)


# ------------------------------------------------------------------------------------ encodings


def test_utf8_bom(tmp_path):
    frame = read_table(_write(tmp_path / "a.csv", "name,v\ncafé,1\n", "utf-8-sig"))
    assert frame.columns.tolist() == ["name", "v"]
    assert frame["name"].tolist() == ["café"]


def test_cp1252_fallback_is_logged(tmp_path, caplog):
    path = _write(tmp_path / "a.csv", "name,price\ncafé,3\n€uro,4\n", "cp1252")
    with caplog.at_level(logging.WARNING, logger="clusterlab.io"):
        frame = read_table(path)
    assert frame["name"].tolist() == ["café", "€uro"]
    assert "not valid UTF-8; read it as cp1252" in caplog.text


def test_latin1_last_resort(tmp_path, caplog):
    # 0x81 is undefined in cp1252, so only latin-1 can decode this file
    (tmp_path / "a.csv").write_bytes(b"name,v\nx\x81y,1\n")
    with caplog.at_level(logging.WARNING, logger="clusterlab.io"):
        frame = read_table(tmp_path / "a.csv")
    assert frame["name"].tolist() == ["x\x81y"]
    assert "latin-1" in caplog.text


def test_explicit_encoding_has_no_fallback(tmp_path):
    path = _write(tmp_path / "a.csv", "name\ncafé\n", "cp1252")
    with pytest.raises(FileFormatError, match="cannot decode the text as utf-8"):
        read_table(path, encoding="utf-8")


def test_utf16(tmp_path):
    frame = read_table(_write(tmp_path / "a.csv", "a,b\n1,2\n", "utf-16"))
    assert frame.to_dict("list") == {"a": [1], "b": [2]}


# ------------------------------------------------------------------------------------ bad files


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nope\.csv: no such file"):
        read_table(tmp_path / "nope.csv")


def test_directory(tmp_path):
    (tmp_path / "d.csv").mkdir()
    with pytest.raises(IsADirectoryError, match="is a folder, not a file"):
        read_table(tmp_path / "d.csv")


@pytest.mark.parametrize("ext", ["csv", "tsv", "jsonl", "parquet", "xlsx", "csv.gz"])
def test_empty_file(tmp_path, ext):
    (tmp_path / f"e.{ext}").write_bytes(b"")
    with pytest.raises(FileFormatError, match=r"is empty"):
        read_table(tmp_path / f"e.{ext}")


def test_blank_file(tmp_path):
    _write(tmp_path / "e.csv", "\n\n   \n")
    with pytest.raises(FileFormatError, match="is empty"):
        read_table(tmp_path / "e.csv")


def test_empty_compressed_content(tmp_path):
    (tmp_path / "e.csv.gz").write_bytes(gzip.compress(b""))
    with pytest.raises(FileFormatError, match="is empty"):
        read_table(tmp_path / "e.csv.gz")


def test_binary_file(tmp_path):
    (tmp_path / "b.csv").write_bytes(bytes(range(256)) * 10)
    with pytest.raises(FileFormatError, match="binary data"):
        read_table(tmp_path / "b.csv")


def test_workbook_named_csv(tmp_path):
    write_table(pd.DataFrame({"a": [1]}), tmp_path / "w.xlsx")
    os.rename(tmp_path / "w.xlsx", tmp_path / "w.csv")
    with pytest.raises(FileFormatError, match=r"zip archive \(an Excel .xlsx"):
        read_table(tmp_path / "w.csv")


def test_gzip_named_csv(tmp_path):
    (tmp_path / "g.csv").write_bytes(gzip.compress(b"a,b\n1,2\n"))
    with pytest.raises(FileFormatError, match=r"name it .csv.gz"):
        read_table(tmp_path / "g.csv")


def test_corrupt_gzip(tmp_path):
    (tmp_path / "g.csv.gz").write_bytes(b"this is not gzip at all")
    with pytest.raises(FileFormatError, match="not a valid gzip file"):
        read_table(tmp_path / "g.csv.gz")


@pytest.mark.parametrize(("ext", "fmt"), [("parquet", "parquet"), ("xlsx", "excel")])
def test_text_with_binary_extension(tmp_path, ext, fmt):
    _write(tmp_path / f"t.{ext}", "a,b\n1,2\n")
    with pytest.raises(FileFormatError, match=f"not a valid {fmt} file"):
        read_table(tmp_path / f"t.{ext}")


def test_truncated_parquet(tmp_path):
    write_table(pd.DataFrame({"a": range(100)}), tmp_path / "p.parquet")
    data = (tmp_path / "p.parquet").read_bytes()
    (tmp_path / "q.parquet").write_bytes(data[: len(data) // 2])
    with pytest.raises(FileFormatError, match="cannot read it as parquet"):
        read_table(tmp_path / "q.parquet")


def test_ragged_csv(tmp_path):
    _write(tmp_path / "r.csv", "a,b\n1,2\n3,4,5,6\n")
    with pytest.raises(FileFormatError, match="cannot read it as delimited text"):
        read_table(tmp_path / "r.csv")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('{"a": 1}\n{"a": \n', "not valid JSON lines"),
        ("[1, 2, 3]", "must be an object"),
        ('{"a": 1}\n{"a": 2', "not valid JSON lines"),
    ],
)
def test_bad_json(tmp_path, text, match):
    _write(tmp_path / "j.jsonl", text)
    with pytest.raises(FileFormatError, match=match):
        read_table(tmp_path / "j.jsonl")


def test_json_lines_with_unicode_line_breaks_in_text(tmp_path):
    frame = pd.DataFrame({"t": ["a\u2028b", "c\x85d", "e\x1cf"], "n": [1, 2, 3]})
    write_table(frame, tmp_path / "t.jsonl")
    pd.testing.assert_frame_equal(read_table(tmp_path / "t.jsonl"), frame, check_dtype=False)


def test_json_array_and_missing_keys(tmp_path):
    _write(tmp_path / "j.json", '[{"a": 1, "b": "x"}, {"a": 2.5}]')
    frame = read_table(tmp_path / "j.json")
    assert frame["a"].tolist() == [1.0, 2.5]
    assert frame["b"].isna().tolist() == [False, True]


@pytest.mark.parametrize(
    ("ext", "module", "extra"), [("parquet", "pyarrow", "parquet"), ("xlsx", "openpyxl", "excel")]
)
def test_missing_extra_names_the_install(tmp_path, monkeypatch, ext, module, extra):
    path = tmp_path / f"t.{ext}"
    write_table(pd.DataFrame({"a": [1]}), path)
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(ImportError, match=rf"pip install clusterlab\[{extra}\]"):
        read_table(path)
    with pytest.raises(ImportError, match=rf"pip install clusterlab\[{extra}\]"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / f"u.{ext}")
    assert not (tmp_path / f"u.{ext}").exists()


# ------------------------------------------------------------------------------------ writing


def test_refuses_to_overwrite(tmp_path):
    target = tmp_path / "o.csv"
    target.write_text("keep me\n")
    with pytest.raises(FileExistsError, match="exists; use --force"):
        write_table(pd.DataFrame({"a": [1]}), target)
    assert target.read_text() == "keep me\n"
    write_table(pd.DataFrame({"a": [1]}), target, overwrite=True)
    assert read_table(target)["a"].tolist() == [1]


def test_overwrite_keeps_file_mode(tmp_path):
    target = tmp_path / "o.csv"
    target.write_text("x\n")
    target.chmod(0o640)
    write_table(pd.DataFrame({"a": [1]}), target, overwrite=True)
    assert target.stat().st_mode & 0o777 == 0o640


def test_new_file_mode_follows_umask(tmp_path):
    old = os.umask(0o022)
    try:
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "o.csv")
    finally:
        os.umask(old)
    assert (tmp_path / "o.csv").stat().st_mode & 0o777 == 0o644


def test_never_writes_over_input(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("a\n1\n")
    with pytest.raises(ValueError, match="refusing to write over the input file"):
        write_table(pd.DataFrame({"a": [2]}), source, overwrite=True, protect=[source])
    link = tmp_path / "sub"
    link.mkdir()
    with pytest.raises(ValueError, match="refusing to write over the input file"):
        write_table(
            pd.DataFrame({"a": [2]}), link / ".." / "in.csv", overwrite=True, protect=[source]
        )
    assert source.read_text() == "a\n1\n"


def test_output_is_a_folder(tmp_path):
    (tmp_path / "d.csv").mkdir()
    with pytest.raises(ValueError, match="is a folder"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "d.csv", overwrite=True)


def test_output_folder_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "no" / "o.csv")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores permissions")
def test_output_folder_not_writable(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(PermissionError, match="not writable"):
            write_table(pd.DataFrame({"a": [1]}), folder / "o.csv")
    finally:
        folder.chmod(0o700)


def test_failed_write_leaves_nothing(tmp_path, monkeypatch):
    def explode(table, tmp, fmt, *, member):
        tmp.write_text("half a tab")
        raise RuntimeError("disk full")

    monkeypatch.setattr(cio, "_write_format", explode)
    with pytest.raises(RuntimeError, match="disk full"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "o.csv")
    assert list(tmp_path.iterdir()) == []


def test_failed_overwrite_keeps_old_file(tmp_path, monkeypatch):
    target = tmp_path / "o.csv"
    target.write_text("old\n")
    monkeypatch.setattr(cio, "_write_format", lambda *a, **k: (_ for _ in ()).throw(OSError("x")))
    with pytest.raises(OSError, match="x"):
        write_table(pd.DataFrame({"a": [1]}), target, overwrite=True)
    assert target.read_text() == "old\n"
    assert list(tmp_path.iterdir()) == [target]


def test_index_written_when_meaningful(tmp_path):
    frame = pd.DataFrame({"a": [1, 2]}, index=pd.Index(["u", "v"], name="customer"))
    write_table(frame, tmp_path / "o.csv")
    back = read_table(tmp_path / "o.csv")
    assert back.columns.tolist() == ["customer", "a"]
    write_table(pd.DataFrame({"a": [1, 2]}, index=[7, 9]), tmp_path / "p.csv")
    assert read_table(tmp_path / "p.csv").columns.tolist() == ["index", "a"]
    write_table(frame, tmp_path / "q.csv", index=False)
    assert read_table(tmp_path / "q.csv").columns.tolist() == ["a"]


def test_index_name_clash(tmp_path):
    frame = pd.DataFrame({"a": [1]}, index=pd.Index([3], name="a"))
    with pytest.raises(ValueError, match="also column names"):
        write_table(frame, tmp_path / "o.csv")


def test_write_does_not_modify_frame(tmp_path):
    frame = pd.DataFrame({"a": [1.0, np.nan]}, index=pd.Index([4, 5], name="id"))
    before = frame.copy()
    for ext in ("csv", "jsonl", "parquet", "xlsx"):
        write_table(frame, tmp_path / f"o.{ext}")
    pd.testing.assert_frame_equal(frame, before)


def test_write_needs_a_frame(tmp_path):
    with pytest.raises(TypeError, match="frame must be a pandas DataFrame; got ndarray"):
        write_table(np.zeros((2, 2)), tmp_path / "o.csv")


def test_zip_member_named_after_target(tmp_path):
    import zipfile

    write_table(pd.DataFrame({"a": [1]}), tmp_path / "o.csv.zip")
    assert zipfile.ZipFile(tmp_path / "o.csv.zip").namelist() == ["o.csv"]


# ------------------------------------------------------------------------------------ round trips

_names = st.text(alphabet="abcdefghij_", min_size=1, max_size=6)
_floats = st.floats(allow_nan=True, allow_infinity=True, width=64)
_ints = st.integers(min_value=-(2**53), max_value=2**53)
# text that a CSV reader cannot mistake for a number, a missing value or a boolean
_words = st.text(alphabet="abcdefghijklmnop xyzé€,;\"'", min_size=1, max_size=8).map(
    lambda s: "w" + s.strip()
)


@st.composite
def frames(draw, *, finite=False):
    n_rows = draw(st.integers(1, 12))
    names = draw(st.lists(_names, min_size=1, max_size=5, unique=True))
    data = {}
    for name in names:
        kind = draw(st.sampled_from(["int", "float", "text"]))
        if kind == "int":
            data[name] = pd.Series(draw(st.lists(_ints, min_size=n_rows, max_size=n_rows)))
        elif kind == "float":
            floats = (
                st.one_of(st.just(math.nan), st.floats(min_value=-1e307, max_value=1e307))
                if finite
                else _floats
            )
            values = draw(st.lists(floats, min_size=n_rows, max_size=n_rows))
            data[name] = pd.Series(values, dtype="float64")
        else:
            values = draw(
                st.lists(st.one_of(st.none(), _words), min_size=n_rows, max_size=n_rows).filter(
                    lambda v: any(x is not None for x in v)
                )
            )
            data[name] = pd.Series(values, dtype="str")
    return pd.DataFrame(data)


def _assert_same(back: pd.DataFrame, frame: pd.DataFrame, *, rtol=0.0):
    assert back.columns.tolist() == frame.columns.tolist()
    assert len(back) == len(frame)
    for name in frame.columns:
        expected, got = frame[name], back[name]
        if pd.api.types.is_numeric_dtype(expected):
            if expected.isna().all() and got.isna().all():
                continue
            np.testing.assert_allclose(got.to_numpy(float), expected.to_numpy(float), rtol=rtol)
        else:
            assert got.isna().tolist() == expected.isna().tolist()
            assert got.dropna().tolist() == expected.dropna().tolist()


_rt = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("ext", ["csv", "tsv", "jsonl", "json", "parquet", "csv.gz"])
@_rt
@given(frame=frames())
def test_round_trip(tmp_path_factory, ext, frame):
    path = tmp_path_factory.mktemp("rt") / f"t.{ext}"
    write_table(frame, path)
    _assert_same(read_table(path), frame)


def test_csv_refuses_nul(tmp_path):
    with pytest.raises(ValueError, match="column 'x' holds a NUL character"):
        write_table(pd.DataFrame({"x": ["a\x00b"]}), tmp_path / "o.csv")
    assert list(tmp_path.iterdir()) == []
    write_table(pd.DataFrame({"x": ["a\x00b"]}), tmp_path / "o.jsonl")
    assert read_table(tmp_path / "o.jsonl")["x"].tolist() == ["a\x00b"]


def test_excel_refuses_control_characters(tmp_path):
    with pytest.raises(ValueError, match="Excel cannot store control characters"):
        write_table(pd.DataFrame({"x": ["ok", "bell\x07"]}), tmp_path / "o.xlsx")
    assert list(tmp_path.iterdir()) == []


def test_excel_refuses_infinity(tmp_path):
    with pytest.raises(ValueError, match="column 'x' holds inf: Excel cannot store"):
        write_table(pd.DataFrame({"x": [1.0, np.inf]}), tmp_path / "o.xlsx")
    assert list(tmp_path.iterdir()) == []


@_rt
@given(frame=frames(finite=True))
def test_round_trip_excel(tmp_path_factory, frame):
    # Excel stores 15 significant digits, and a sheet ends at its last non-empty row
    assume(frame.iloc[-1].notna().any())
    path = tmp_path_factory.mktemp("rt") / "t.xlsx"
    write_table(frame, path)
    _assert_same(read_table(path), frame, rtol=1e-14)


@_rt
@given(frame=frames())
def test_round_trip_keeps_index(tmp_path_factory, frame):
    frame = frame.set_axis(pd.Index(range(100, 100 + len(frame)), name="row"))
    path = tmp_path_factory.mktemp("rt") / "t.csv"
    write_table(frame, path)
    back = read_table(path).set_index("row")
    assert back.index.tolist() == frame.index.tolist()
    _assert_same(back, frame)
