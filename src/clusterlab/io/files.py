"""Table files: CSV / TSV, Parquet, Excel .xlsx and JSON lines, chosen by extension.

Reading sniffs what a spreadsheet export usually gets wrong (the delimiter, a decimal comma, the
text encoding) and turns every problem with the file into one clear error naming the file.
Writing never leaves a half-written file: the table goes to a temporary file in the same folder
which is renamed over the target only when complete; an existing file is kept unless
``overwrite=True``, and the files a command read (``protect=``) are never written over.

Formats by extension (a ``.gz``, ``.bz2``, ``.xz`` or ``.zip`` suffix compresses the text formats):

=====================  ==========================  =========================================
extension              format                      needs
=====================  ==========================  =========================================
``.csv``, ``.txt``     delimited text (sniffed)
``.tsv``, ``.tab``     tab-separated text
``.jsonl``, ``.ndjson`` JSON lines (one object/row)
``.json``              JSON lines, or one array of objects (read); array of objects (write)
``.parquet``, ``.pq``  Parquet                     ``pip install clusterlab[parquet]``
``.xlsx``, ``.xlsm``   Excel workbook              ``pip install clusterlab[excel]``
=====================  ==========================  =========================================
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
import math
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "FORMATS",
    "FileFormatError",
    "atomic_output",
    "check_writable",
    "read_file",
    "table_format",
    "write_file",
]

logger = logging.getLogger(__name__)

#: extension -> format name
FORMATS: dict[str, str] = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".xlsx": "excel",
    ".xlsm": "excel",
}
_COMPRESSIONS = {".gz": "gzip", ".bz2": "bz2", ".xz": "xz", ".zip": "zip"}
_TEXT_FORMATS = {"csv", "tsv", "jsonl", "json"}
_EXTRAS = {"parquet": ("pyarrow", "parquet"), "excel": ("openpyxl", "excel")}
_DELIMITERS = (",", ";", "\t", "|")
_ENCODINGS = ("utf-8", "cp1252", "latin-1")
_SAMPLE_BYTES = 1 << 16
# magic numbers of files that are often given a wrong extension, to say what the file really is
_MAGIC = {
    b"PK\x03\x04": "a zip archive (an Excel .xlsx workbook is one)",
    b"\x1f\x8b": "gzip-compressed (name it .csv.gz)",
    b"PAR1": "a Parquet file (name it .parquet)",
    b"\xd0\xcf\x11\xe0": "an old Excel .xls / OLE file (save it as .xlsx or .csv)",
    b"%PDF": "a PDF document",
}


class FileFormatError(ValueError):
    """A file cannot be read as the table its extension promises (empty, binary, malformed)."""


def table_format(path: str | os.PathLike[str]) -> tuple[str, str | None]:
    """Return ``(format, compression)`` for a file name, from its extension.

    Raises
    ------
    FileFormatError
        For an extension that is not a table format, naming the ones that are.

    Examples
    --------
    >>> table_format("sales.csv.gz")
    ('csv', 'gzip')
    >>> table_format("customers.parquet")
    ('parquet', None)
    """
    suffixes = [s.lower() for s in Path(path).suffixes]
    compression = None
    if suffixes and suffixes[-1] in _COMPRESSIONS:
        compression = _COMPRESSIONS[suffixes.pop()]
    fmt = FORMATS.get(suffixes[-1]) if suffixes else None
    if fmt is None or (compression is not None and fmt not in _TEXT_FORMATS):
        known = ", ".join(sorted(FORMATS))
        raise FileFormatError(
            f"{path}: unknown table format {''.join(Path(path).suffixes) or '(no extension)'!r}; "
            f"use one of {known} (text formats may end in .gz, .bz2, .xz or .zip)"
        )
    return fmt, compression


def _require(fmt: str, action: str) -> None:
    module, extra = _EXTRAS[fmt]
    try:
        __import__(module)
    except ImportError:
        raise ImportError(
            f"{action} {fmt} files needs {module}: pip install clusterlab[{extra}]"
        ) from None


# ---------------------------------------------------------------------------------------- reading


def read_file(
    path: str | os.PathLike[str],
    *,
    sep: str | None = None,
    decimal: str | None = None,
    encoding: str | None = None,
    sheet: str | int = 0,
    **options: Any,
) -> pd.DataFrame:
    """Read a table from a file, choosing the reader by the file's extension.

    Parameters
    ----------
    path : str or path-like
        The file. See the module docstring for the extensions understood.
    sep : str, optional
        Delimiter of a text file. By default it is sniffed among ``, ; TAB |`` from the first
        lines (a ``.tsv`` that is really comma-separated is read correctly, with a log message).
    decimal : str, optional
        Decimal mark of a text file. By default a comma is recognised when the numbers use one
        (``3,14`` in a ``;``-separated file).
    encoding : str, optional
        Text encoding. By default UTF-8 (with or without a byte-order mark); a file that is not
        valid UTF-8 is read as cp1252 and, failing that, latin-1, and a warning is logged.
    sheet : str or int, default 0
        Excel worksheet name or position.
    **options
        Passed on to the pandas reader (``pandas.read_csv``, ``read_parquet``, ``read_excel``).

    Returns
    -------
    pandas.DataFrame
        A file with a header and no rows gives an empty frame with its columns.

    Raises
    ------
    FileNotFoundError, IsADirectoryError, PermissionError
        The path is missing, a folder, or unreadable.
    FileFormatError
        Unknown extension, an empty or binary file, or contents the format's parser rejects.
    ImportError
        A Parquet or Excel file without the optional dependency (names the extra to install).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "a.csv").write_text("x;y\\n1,5;2\\n3,0;4\\n")
    >>> read_file(folder / "a.csv")
         x  y
    0  1.5  2
    1  3.0  4
    """
    path = Path(path)
    fmt, compression = table_format(path)
    _check_readable(path)
    if fmt in ("parquet", "excel"):
        _check_not_text(path, fmt)
        return _read_binary_format(path, fmt, sheet, options)
    raw = _read_sample(path, compression)
    if not raw.strip():
        raise FileFormatError(f"{path} is empty (no header, no rows)")
    _check_not_binary(path, raw)
    fallback = encoding is None
    if encoding is None:
        encoding = _guess_encoding(raw)
    if fmt in ("jsonl", "json"):
        return _read_json(path, compression, encoding)
    text = raw.decode(encoding, errors="replace")
    if sep is None:
        sep = _sniff_delimiter(path, text, fmt)
    if decimal is None and sep != ",":
        decimal, thousands = _sniff_decimal(text, sep)
        if decimal != "." and "thousands" not in options and thousands is not None:
            options["thousands"] = thousands
    encodings = [encoding]
    if fallback and encoding == "utf-8":
        encodings += [e for e in _ENCODINGS if e != encoding]
    return _read_delimited(
        path, compression, encodings=encodings, sep=sep, decimal=decimal or ".", options=options
    )


def _check_readable(path: Path) -> None:
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder, not a file")
    if not os.access(path, os.R_OK):
        raise PermissionError(f"{path}: permission denied (cannot read)")
    if path.stat().st_size == 0:
        raise FileFormatError(f"{path} is empty (0 bytes)")


def _read_sample(path: Path, compression: str | None) -> bytes:
    opener = {
        None: lambda p: open(p, "rb"),  # noqa: SIM115
        "gzip": lambda p: __import__("gzip").open(p, "rb"),
        "bz2": lambda p: __import__("bz2").open(p, "rb"),
        "xz": lambda p: __import__("lzma").open(p, "rb"),
    }
    try:
        if compression == "zip":
            import zipfile

            with zipfile.ZipFile(path) as archive:
                names = [n for n in archive.namelist() if not n.endswith("/")]
                if len(names) != 1:
                    raise FileFormatError(
                        f"{path}: a .zip must hold exactly one table file; it holds {len(names)}"
                    )
                with archive.open(names[0]) as f:
                    return f.read(_SAMPLE_BYTES)
        with opener[compression](path) as f:
            return f.read(_SAMPLE_BYTES)
    except (OSError, EOFError, ValueError) as exc:
        if isinstance(exc, FileFormatError):
            raise
        raise FileFormatError(f"{path}: not a valid {compression} file ({exc})") from None


def _check_not_binary(path: Path, raw: bytes) -> None:
    for magic, what in _MAGIC.items():
        if raw.startswith(magic):
            raise FileFormatError(f"{path} is not a text table: it looks like {what}")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return  # UTF-16 text: NUL bytes are expected
    if b"\x00" in raw:
        raise FileFormatError(f"{path} is not a text table: it contains binary data (NUL bytes)")


def _check_not_text(path: Path, fmt: str) -> None:
    with open(path, "rb") as f:
        head = f.read(8)
    expected = {"parquet": b"PAR1", "excel": b"PK\x03\x04"}[fmt]
    if not head.startswith(expected):
        raise FileFormatError(
            f"{path} is not a valid {fmt} file (it does not start like one; "
            "is it a text file with the wrong extension?)"
        )


def _guess_encoding(raw: bytes) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    return "utf-8"  # a file that turns out not to be UTF-8 falls back in _read_delimited


def _sniff_delimiter(path: Path, text: str, fmt: str) -> str:
    preferred = "\t" if fmt == "tsv" else ","
    lines = [line for line in text.splitlines()[:50] if line.strip()]
    if len(text) >= _SAMPLE_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the sample may cut the last line short
    best, best_score = preferred, (0, 0)
    for delimiter in _DELIMITERS:
        try:
            widths = [len(row) for row in csv.reader(lines, delimiter=delimiter)]
        except csv.Error:
            continue
        if not widths or widths[0] < 2:
            continue
        # the delimiter that splits the most lines into the header's width, then into most fields
        score = (sum(w == widths[0] for w in widths), widths[0])
        if score > best_score or (score == best_score and delimiter == preferred):
            best, best_score = delimiter, score
    if fmt == "tsv" and best != "\t":
        logger.warning("%s is separated by %r, not by tabs; reading it that way", path, best)
    return best


_COMMA_DECIMAL = re.compile(r"^[-+]?\d{1,3}(?:\.\d{3})*,\d+$|^[-+]?\d+,\d+$")
_DOT_DECIMAL = re.compile(r"^[-+]?\d*\.\d+(?:[eE][-+]?\d+)?$")
_DOT_THOUSANDS = re.compile(r"^[-+]?\d{1,3}(?:\.\d{3})+,\d+$")


def _sniff_decimal(text: str, sep: str) -> tuple[str, str | None]:
    lines = text.splitlines()[1:50]
    comma = dot = thousands = 0
    for row in csv.reader(lines, delimiter=sep):
        for raw_field in row:
            field = raw_field.strip()
            if _COMMA_DECIMAL.match(field):
                comma += 1
                thousands += bool(_DOT_THOUSANDS.match(field))
            elif _DOT_DECIMAL.match(field):
                dot += 1
    if comma > dot:
        return ",", ("." if thousands else None)
    return ".", None


def _read_delimited(
    path: Path,
    compression: str | None,
    *,
    encodings: list[str],
    sep: str,
    decimal: str,
    options: dict[str, Any],
) -> pd.DataFrame:
    for i, enc in enumerate(encodings):
        try:
            frame = pd.read_csv(
                path,
                sep=sep,
                decimal=decimal,
                encoding=enc,
                compression=compression,
                **options,
            )
        except UnicodeDecodeError:
            if i + 1 == len(encodings):
                raise FileFormatError(f"{path}: cannot decode the text as {enc}") from None
            continue
        except pd.errors.EmptyDataError:
            raise FileFormatError(f"{path} is empty (no header, no rows)") from None
        except (pd.errors.ParserError, csv.Error) as exc:
            raise FileFormatError(f"{path}: cannot read it as delimited text: {exc}") from None
        if i > 0:
            logger.warning("%s is not valid UTF-8; read it as %s", path, enc)
        return frame
    raise AssertionError("unreachable")  # pragma: no cover


def _read_json(path: Path, compression: str | None, encoding: str) -> pd.DataFrame:
    opener = {"gzip": "gzip", "bz2": "bz2", "xz": "lzma"}
    try:
        if compression is None:
            text = path.read_text(encoding=encoding)
        elif compression == "zip":
            import zipfile

            with zipfile.ZipFile(path) as archive:
                text = archive.read(archive.namelist()[0]).decode(encoding)
        else:
            module = __import__(opener[compression])
            with module.open(path, "rt", encoding=encoding) as f:
                text = f.read()
    except UnicodeDecodeError:
        raise FileFormatError(f"{path}: JSON must be UTF-8 text; it is not") from None
    stripped = text.lstrip()
    try:
        if stripped.startswith("["):
            records = json.loads(stripped)
        else:
            # only "\n" ends a record: str.splitlines would also split inside strings holding
            # U+2028, U+0085 and the like, which JSON writers leave unescaped
            records = [json.loads(line) for line in text.split("\n") if line.strip()]
    except json.JSONDecodeError as exc:
        raise FileFormatError(
            f"{path}: not valid JSON lines ({exc.msg} at line {exc.lineno})"
        ) from None
    if not all(isinstance(r, dict) for r in records):
        raise FileFormatError(f"{path}: every JSON record must be an object of column: value")
    columns: dict[str, None] = {}
    for record in records:
        columns.update(dict.fromkeys(record))
    return pd.DataFrame(
        {c: _column_from_values([r.get(c) for r in records]) for c in columns},
        index=pd.RangeIndex(len(records)),
    )


def _column_from_values(values: list[Any]) -> pd.Series:
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        if len(present) == len(values) and all(isinstance(v, int) for v in present):
            return pd.Series(values, dtype="int64")
        return pd.Series([math.nan if v is None else v for v in values], dtype="float64")
    return pd.Series(values)


def _read_binary_format(
    path: Path, fmt: str, sheet: str | int, options: dict[str, Any]
) -> pd.DataFrame:
    _require(fmt, "reading")
    try:
        if fmt == "parquet":
            return pd.read_parquet(path, engine="pyarrow", **options)
        return pd.read_excel(path, sheet_name=sheet, engine="openpyxl", **options)
    except (ImportError, FileFormatError):
        raise
    except Exception as exc:  # the engines raise their own types for a corrupt file
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise FileFormatError(f"{path}: cannot read it as {fmt}: {message}") from None


# ---------------------------------------------------------------------------------------- writing


def write_file(
    frame: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    index: bool | None = None,
    protect: Iterable[str | os.PathLike[str]] = (),
) -> Path:
    """Write a table to a file, choosing the format by the extension, never half-written.

    The table is written to a temporary file in the target's folder and renamed to ``path`` only
    once complete, so an interrupted or failed write leaves no partial file.

    Text and Parquet files read back to the same values (floats exactly). Excel keeps 15
    significant digits, cannot hold infinity (an error) and drops trailing rows that are empty.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table; it is not modified.
    path : str or path-like
        Target file; its extension chooses the format (see the module docstring).
    overwrite : bool, default False
        Replace an existing file. Without it an existing ``path`` is an error.
    index : bool, optional
        Write the row index as column(s) (named after the index, or ``index``). By default the
        index is written unless it is the default ``0..n-1`` range.
    protect : iterable of paths
        Files that must never be written over, whatever ``overwrite`` says (the inputs of a
        command).

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    FileExistsError
        ``path`` exists and ``overwrite`` is false.
    ValueError
        ``path`` is one of the ``protect`` files, or a folder.
    FileNotFoundError, PermissionError
        The target folder is missing or not writable.

    Examples
    --------
    >>> import tempfile, pathlib, pandas as pd
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.csv"
    >>> write_file(pd.DataFrame({"a": [1, 2]}), target).name
    'out.csv'
    >>> read_file(target)["a"].tolist()
    [1, 2]
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame must be a pandas DataFrame; got {type(frame).__name__}")
    path = Path(path)
    fmt, _ = table_format(path)
    check_writable(path, overwrite=overwrite, protect=protect)
    if index is None:
        index = not _is_default_index(frame.index)
    table = _with_index_columns(frame) if index else frame
    _check_column_names(table, path)
    if fmt in _EXTRAS:
        _require(fmt, "writing")
    with atomic_output(path, overwrite=overwrite, protect=protect) as tmp:
        _write_format(table, tmp, fmt, member=path.name.removesuffix(".zip"))
    return path


@contextlib.contextmanager
def atomic_output(
    path: str | os.PathLike[str], *, overwrite: bool = False, protect: Iterable[Any] = ()
) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place when the block succeeds.

    The temporary file has the same extensions as ``path`` (writers that choose the format by
    extension behave the same). If the block raises, the temporary file is deleted and ``path``
    is left as it was. The checks of :func:`check_writable` run first.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "notes.txt"
    >>> with atomic_output(target) as tmp:
    ...     _ = tmp.write_text("complete")
    >>> target.read_text()
    'complete'
    """
    path = Path(path)
    check_writable(path, overwrite=overwrite, protect=protect)
    fd, tmp_name = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp" + "".join(path.suffixes)
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.chmod(tmp, _file_mode(path))
        _move_into_place(tmp, path, overwrite=overwrite)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()


def check_writable(
    path: str | os.PathLike[str], *, overwrite: bool = False, protect: Iterable[Any] = ()
) -> None:
    """Raise the error :func:`write_file` would raise for ``path``, before any work is done.

    Any file (a report, a model) may be checked, whatever its extension.
    """
    path = Path(path)
    for protected in protect:
        if protected is not None and _same_file(path, Path(protected)):
            raise ValueError(f"refusing to write over the input file {path}; choose another name")
    if path.is_dir():
        raise ValueError(f"{path} is a folder; give a file name for the output")
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; use --force (overwrite=True) to replace it")
    parent = path.parent
    if not parent.is_dir():
        raise FileNotFoundError(f"cannot write {path}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise PermissionError(f"cannot write {path}: folder {parent} is not writable")


def _is_default_index(index: pd.Index) -> bool:
    return (
        isinstance(index, pd.RangeIndex)
        and index.start == 0
        and index.step == 1
        and index.name is None
    )


def _with_index_columns(frame: pd.DataFrame) -> pd.DataFrame:
    names = [
        name if name is not None else ("index" if frame.index.nlevels == 1 else f"level_{i}")
        for i, name in enumerate(frame.index.names)
    ]
    clash = set(map(str, names)) & set(map(str, frame.columns))
    if clash:
        raise ValueError(
            f"cannot write the index: its name(s) {sorted(clash)} are also column names; "
            "rename the index or pass index=False"
        )
    out = frame.copy(deep=False)
    out.index = out.index.set_names(names)
    return out.reset_index()


def _check_column_names(table: pd.DataFrame, path: Path) -> None:
    names = [str(c) for c in table.columns]
    if len(set(names)) != len(names):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"cannot write {path}: duplicated column names {dupes}")


def _write_format(table: pd.DataFrame, tmp: Path, fmt: str, *, member: str) -> None:
    # inside a .zip the table is stored under the target's name, not the temporary one
    compression: Any = (
        {"method": "zip", "archive_name": member} if tmp.suffix == ".zip" else "infer"
    )
    if fmt in ("csv", "tsv"):
        _check_no_nul(table)
    if fmt == "csv":
        table.to_csv(tmp, index=False, compression=compression, quoting=_quoting(table))
    elif fmt == "tsv":
        table.to_csv(tmp, index=False, sep="\t", compression=compression, quoting=_quoting(table))
    elif fmt in ("jsonl", "json"):
        _write_json(table, tmp, lines=fmt == "jsonl", member=member)
    elif fmt == "parquet":
        table.rename(columns=str).to_parquet(tmp, engine="pyarrow", index=False)
    else:
        _check_excel_numbers(table)
        from openpyxl.utils.exceptions import IllegalCharacterError

        try:
            table.to_excel(tmp, index=False, engine="openpyxl")
        except IllegalCharacterError as exc:
            raise ValueError(
                f"Excel cannot store control characters such as in {str(exc).split(' cannot')[0]!r}"
                "; write .csv or .parquet instead"
            ) from None


def _quoting(table: pd.DataFrame) -> int:
    """pandas leaves a field with a bare carriage return unquoted, and every reader then splits
    the row there: such a table is written with every field quoted."""
    names = any("\r" in str(name) for name in table.columns)
    cells = any(
        col.astype("str").str.contains("\r", regex=False).any()
        for _, col in table.items()
        if col.dtype == object or pd.api.types.is_string_dtype(col)
    )
    return csv.QUOTE_ALL if names or cells else csv.QUOTE_MINIMAL


def _check_no_nul(table: pd.DataFrame) -> None:
    # a NUL byte makes a text file look binary to every reader, ours included
    for name, col in table.items():
        is_text = col.dtype == object or pd.api.types.is_string_dtype(col)
        if is_text and col.astype("str").str.contains("\x00", regex=False).any():
            raise ValueError(
                f"column {name!r} holds a NUL character, which a delimited text file cannot "
                "carry; write .parquet or .jsonl instead"
            )


#: Largest magnitude a spreadsheet cell holds (Excel's limit); inf does not exist there.
_EXCEL_MAX = 9.99999999999999e307


def _check_excel_numbers(table: pd.DataFrame) -> None:
    for name, col in table.items():
        if pd.api.types.is_float_dtype(col) or pd.api.types.is_integer_dtype(col):
            values = col.to_numpy(dtype=float, na_value=np.nan)
            big = np.abs(values) > _EXCEL_MAX
            if big.any():
                raise ValueError(
                    f"column {name!r} holds {float(values[big][0])!r}: Excel cannot store infinite "
                    f"values or magnitudes above {_EXCEL_MAX!r}; write .csv or .parquet instead"
                )


def _write_json(table: pd.DataFrame, tmp: Path, *, lines: bool, member: str) -> None:
    # json.dumps writes floats exactly (shortest repr); pandas' writer rounds to 15 digits and
    # turns inf into null. NaN / NA become null, inf stays Infinity (Python's JSON reads it).
    columns = {}
    for name, col in table.items():
        if pd.api.types.is_datetime64_any_dtype(col):
            values = [None if pd.isna(v) else v.isoformat() for v in col]
        else:
            values = [None if _is_missing(v) else _plain(v) for v in col.tolist()]
        columns[str(name)] = values
    records = [dict(zip(columns, row, strict=True)) for row in zip(*columns.values(), strict=True)]
    if not columns:
        records = [{} for _ in range(len(table))]
    compression = {".gz": "gzip", ".bz2": "bz2", ".xz": "lzma"}.get(tmp.suffix)
    buffer = io.StringIO()
    if lines:
        for record in records:
            buffer.write(json.dumps(record, ensure_ascii=False) + "\n")
    else:
        json.dump(records, buffer, ensure_ascii=False)
    data = buffer.getvalue().encode("utf-8")
    if tmp.suffix == ".zip":
        import zipfile

        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(member, data)
    elif compression is not None:
        with __import__(compression).open(tmp, "wb") as f:
            f.write(data)
    else:
        tmp.write_bytes(data)


def _is_missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _plain(value: Any) -> Any:
    if hasattr(value, "item") and not isinstance(value, str):
        return value.item()
    if isinstance(value, pd.Timestamp | pd.Timedelta):
        return value.isoformat()
    return value


def _file_mode(path: Path) -> int:
    if path.exists():
        return path.stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _move_into_place(tmp: Path, path: Path, *, overwrite: bool) -> None:
    if overwrite:
        os.replace(tmp, path)
        return
    # a hard link fails if the target appeared meanwhile, so an existing file is never replaced
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise FileExistsError(
            f"{path} exists; use --force (overwrite=True) to replace it"
        ) from None
    except OSError:  # file systems without hard links
        if path.exists():
            raise FileExistsError(
                f"{path} exists; use --force (overwrite=True) to replace it"
            ) from None
        os.replace(tmp, path)
        return
    tmp.unlink()
