"""Where a table lives: a file, or a database named by a URL; and how a URL is shown.

A *source* or *target* is a database when it is a string with a URL scheme (``duckdb:///shop.duckdb``,
``postgresql://analyst@db.example.com/shop``, ``sqlite:///shop.db``, any SQLAlchemy URL) or a path
ending in ``.duckdb``; anything else is a file. This module imports nothing heavy, so that the
command line can check its arguments before any work.

Passwords are never shown: :func:`mask_password` replaces the password of every URL in a text with
``***`` (as SQLAlchemy shows URLs), and :class:`Database` keeps the real URL out of its ``repr``
and ``str``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

__all__ = [
    "DUCKDB_SUFFIX",
    "Database",
    "is_database",
    "mask_password",
    "parse_database",
    "split_table_name",
]

#: A path with this suffix is a DuckDB database file.
DUCKDB_SUFFIX = ".duckdb"
_SCHEME = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*)://(?P<rest>.*)$", re.DOTALL)
# a URL inside a longer text (an error message): the scheme, then everything up to white space
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"]*")
_SECRET_PARAMS = re.compile(r"(?i)([?&](?:password|passwd|pwd|secret|token)=)[^&#\s]*")
_MASK = "***"
#: What the ``postgresql`` scheme means without a driver: psycopg 3, the one the ``sql`` extra
#: installs (SQLAlchemy's own default is psycopg2).
_POSTGRES_DRIVER = "postgresql+psycopg"


def is_database(source: object) -> bool:
    """Whether ``source`` names a database (a URL with a scheme, or a ``.duckdb`` file).

    Examples
    --------
    >>> is_database("postgresql://analyst@localhost/shop"), is_database("customers.csv")
    (True, False)
    >>> is_database("shop.duckdb")
    True
    """
    if isinstance(source, str) and _SCHEME.match(source):
        return True
    if isinstance(source, str | os.PathLike):
        return Path(os.fspath(source)).suffix.lower() == DUCKDB_SUFFIX
    return False


def mask_password(text: str) -> str:
    """``text`` with the password of every URL in it replaced by ``***``.

    Examples
    --------
    >>> mask_password("cannot connect to postgresql://ann:s3cret@db:5432/shop")
    'cannot connect to postgresql://ann:***@db:5432/shop'
    >>> mask_password("mysql://ann@db/shop?password=s3cret&ssl=1")
    'mysql://ann@db/shop?password=***&ssl=1'
    """
    return _URL_IN_TEXT.sub(lambda m: _mask_url(m.group(0)), text)


def _mask_url(url: str) -> str:
    match = _SCHEME.match(url)
    if match is None:  # pragma: no cover - _URL_IN_TEXT only finds URLs
        return url
    rest = match.group("rest")
    head, sep, query = rest.partition("?")
    # the user information ends at the last "@" of the authority and path (a raw "@" in a
    # password is then masked whole)
    userinfo, at, location = head.rpartition("@")
    if _has_password(at, userinfo):
        user = userinfo.split(":", 1)[0]
        head = f"{user}:{_MASK}@{location}"
    masked = f"{match.group('scheme')}://{head}{sep}{query}"
    return _SECRET_PARAMS.sub(lambda m: m.group(1) + _MASK, masked)


def _has_password(at: str, userinfo: str) -> bool:
    # a "/" before the ":" means a path (duckdb:///a:b@c.duckdb), not a user name
    return bool(at) and ":" in userinfo and "/" not in userinfo.split(":", 1)[0]


@dataclass(frozen=True)
class Database:
    """A database named by the user: which backend reads it and how to reach it.

    Attributes
    ----------
    backend : {'duckdb', 'sqlalchemy'}
        DuckDB's own Python API, or SQLAlchemy for every other URL.
    shown : str
        The URL with its password masked: the only form that appears in messages.
    path : str or None
        The database file (DuckDB and SQLite), ``":memory:"`` for an in-memory DuckDB, None for a
        server.
    """

    backend: str
    shown: str
    path: str | None
    url: str = field(repr=False)  # the real URL (with its password): never printed

    def __str__(self) -> str:
        return self.shown

    @property
    def password(self) -> str | None:
        """The URL's password, to scrub it from a driver's messages (None when there is none)."""
        match = _SCHEME.match(self.url)
        if match is None:
            return None
        userinfo, at, _ = match.group("rest").partition("?")[0].rpartition("@")
        if not _has_password(at, userinfo):
            return None
        return unquote(userinfo.split(":", 1)[1]) or None

    def scrub(self, text: str) -> str:
        """``text`` with this database's password masked, wherever it appears."""
        text = mask_password(text)
        password = self.password
        if password:
            text = text.replace(password, _MASK)
        return text


def parse_database(source: str | os.PathLike[str]) -> Database:
    """The :class:`Database` a source or target names.

    ``duckdb:///relative/path.duckdb``, ``duckdb:////absolute/path.duckdb`` and a path ending in
    ``.duckdb`` open a DuckDB file; ``duckdb://`` (or ``duckdb:///:memory:``) an in-memory
    DuckDB, for SQL over files. ``postgresql://`` and ``postgres://`` without a driver mean
    ``postgresql+psycopg://``. Every other URL goes to SQLAlchemy as it is.

    Raises
    ------
    ValueError
        ``source`` is not a database URL, or a DuckDB URL carries options (the message shows the
        URL with its password masked).

    Examples
    --------
    >>> parse_database("duckdb:///shop.duckdb").path
    'shop.duckdb'
    >>> str(parse_database("postgresql://ann:s3cret@db/shop"))
    'postgresql://ann:***@db/shop'
    >>> parse_database("postgres://ann@db/shop").url
    'postgresql+psycopg://ann@db/shop'
    """
    if not isinstance(source, str) or not _SCHEME.match(source):
        if is_database(source):
            path = os.fspath(source)
            return Database("duckdb", f"duckdb:///{path}", path, f"duckdb:///{path}")
        raise ValueError(f"{mask_password(str(source))} is not a database URL")
    match = _SCHEME.match(source)
    assert match is not None
    scheme, rest = match.group("scheme").lower(), match.group("rest")
    shown = mask_password(source)
    if scheme == "duckdb":
        return Database("duckdb", shown, _duckdb_path(rest, shown), source)
    if scheme in ("postgresql", "postgres"):
        source = f"{_POSTGRES_DRIVER}://{rest}"
    path = None
    if scheme.split("+")[0] == "sqlite":
        path = _sqlite_path(rest)
    return Database("sqlalchemy", shown, path, source)


def _duckdb_path(rest: str, shown: str) -> str:
    if "?" in rest or "#" in rest:
        raise ValueError(f"{shown}: a DuckDB URL takes no options; give duckdb:///path.duckdb")
    if rest in ("", "/", "/:memory:"):
        return ":memory:"
    if not rest.startswith("/"):
        raise ValueError(
            f"{shown}: a DuckDB URL is duckdb:///relative/path.duckdb or "
            "duckdb:////absolute/path.duckdb (three or four slashes)"
        )
    return unquote(rest[1:])


def _sqlite_path(rest: str) -> str | None:
    """The database file of a SQLite URL (None for an in-memory database)."""
    path = unquote(rest.partition("?")[0])
    if path in ("", "/", "/:memory:"):
        return None
    return path[1:] if path.startswith("/") else path


def split_table_name(name: str) -> tuple[str | None, str]:
    """``"schema.table"`` -> ``("schema", "table")``; ``"table"`` -> ``(None, "table")``.

    Examples
    --------
    >>> split_table_name("analytics.segments")
    ('analytics', 'segments')
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"a table name must be a non-empty string; got {name!r}")
    schema, dot, table = name.partition(".")
    if not dot:
        return None, name
    if not schema or not table or "." in table:
        raise ValueError(f"table name {name!r} must be TABLE or SCHEMA.TABLE")
    return schema, table
