"""Recency, frequency and monetary value per customer, from a raw transaction log.

The standard preprocessing for customer segmentation (Hughes 1994; Chen, Sain & Guo 2012 on the
online-retail data): one row per customer, three numbers that clustering can work with.
"""

from __future__ import annotations

import logging
from datetime import date as _date
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["rfm"]

logger = logging.getLogger(__name__)

#: Invoices whose number starts with this letter are cancellations (the online-retail convention).
CANCELLATION_PREFIX = "C"


def rfm(
    transactions: pd.DataFrame,
    *,
    customer: str,
    date: str,
    amount: str | None = None,
    quantity: str | None = None,
    price: str | None = None,
    invoice: str | None = None,
    now: str | _date | datetime | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Build the recency / frequency / monetary table from transactions, one row per customer.

    Rules, in order:

    1. Rows with no customer id are dropped (about a quarter of the online-retail lines); so are
       rows with no date or no value. The counts are logged.
    2. The value of a line is ``amount``, or ``quantity * price``.
    3. A line is a **cancellation** when its invoice starts with ``"C"``, its quantity is negative,
       or its value is negative. A cancellation is not a purchase: it reduces ``monetary`` by the
       absolute value of the line and counts neither in ``frequency`` nor in ``recency``.
    4. Customers without a single purchase (only cancellations) are dropped and counted in the log.

    Parameters
    ----------
    transactions : pandas.DataFrame
        One row per transaction line. Not modified.
    customer, date : str
        Columns holding the customer id and the transaction date (datetimes, or text that
        :func:`pandas.to_datetime` reads).
    amount : str, optional
        Column holding the value of a line. Give it, or both ``quantity`` and ``price``.
    quantity, price : str, optional
        Columns whose product is the value of a line; a negative quantity marks a cancellation.
    invoice : str, optional
        Invoice number column. ``frequency`` counts distinct invoices; without it, distinct
        purchase timestamps (lines of one basket share a timestamp).
    now : date-like, optional
        Reference day for recency. Default: the day after the last date of the lines kept
        (lines without a customer id do not count).

    Returns
    -------
    pandas.DataFrame
        Indexed by customer id (sorted, named after ``customer``; float ids that are whole
        numbers become int64), with columns

        - ``recency`` (int64): calendar days from the last purchase to ``now``;
        - ``frequency`` (int64): number of purchases (invoices);
        - ``monetary`` (float64): total value of purchases minus cancellations (it can be
          negative when a customer returned goods bought before the log begins).

    Raises
    ------
    TypeError
        ``transactions`` is not a DataFrame.
    ValueError
        A column is missing or not numeric / not dates, the value columns are not given, or
        ``now`` is before the last purchase.

    Examples
    --------
    >>> import pandas as pd
    >>> log = pd.DataFrame({
    ...     "id": [1, 1, 2, 2],
    ...     "day": ["2024-01-01", "2024-01-05", "2024-01-03", "2024-01-04"],
    ...     "invoice": ["A1", "A2", "A3", "C4"],
    ...     "value": [10.0, 5.0, 8.0, -3.0],
    ... })
    >>> rfm(log, customer="id", date="day", amount="value", invoice="invoice")
    ... # doctest: +NORMALIZE_WHITESPACE
        recency  frequency  monetary
    id
    1         1          2      15.0
    2         3          1       5.0
    """
    if not isinstance(transactions, pd.DataFrame):
        raise TypeError(
            f"transactions must be a pandas DataFrame; got {type(transactions).__name__}"
        )
    roles = {"customer": customer, "date": date, "amount": amount, "quantity": quantity}
    roles |= {"price": price, "invoice": invoice}
    _check_columns(transactions, roles)
    if amount is None and (quantity is None or price is None):
        raise ValueError("give amount=COLUMN, or quantity=COLUMN and price=COLUMN")
    if amount is not None and price is not None:
        raise ValueError("give amount= or price= (with quantity=), not both")

    lines = _clean_lines(
        transactions,
        customer=customer,
        date=date,
        amount=amount,
        quantity=quantity,
        price=price,
        invoice=invoice,
    )
    return _summarise(lines, name=customer, now=now)


def _check_columns(frame: pd.DataFrame, roles: dict[str, str | None]) -> None:
    for role, column in roles.items():
        if column is not None and column not in frame.columns:
            shown = ", ".join(map(repr, list(frame.columns)[:12]))
            raise ValueError(f"{role}={column!r} is not a column of transactions; columns: {shown}")


def _numeric(frame: pd.DataFrame, column: str, role: str) -> pd.Series:
    col = frame[column]
    if pd.api.types.is_bool_dtype(col) or not (
        pd.api.types.is_numeric_dtype(col)
        or col.dtype == object
        or pd.api.types.is_string_dtype(col)
    ):
        raise ValueError(f"{role}={column!r} must hold numbers; got dtype {col.dtype}")
    values = pd.to_numeric(col, errors="coerce").astype("float64")
    bad = values.isna() & col.notna()
    if bad.any():
        raise ValueError(f"{role}={column!r} must hold numbers; got {_first(col, bad)}")
    if np.isinf(values).any():
        raise ValueError(f"{role}={column!r} holds an infinite value")
    return values


def _first(col: pd.Series, bad: pd.Series) -> str:
    return f"{col[bad].iloc[0]!r} in row {col[bad].index[0]!r}"


def _dates(frame: pd.DataFrame, column: str) -> pd.Series:
    col = frame[column]
    if pd.api.types.is_datetime64_any_dtype(col):
        return col
    try:
        values = pd.to_datetime(col, errors="coerce", format="mixed")
    except (TypeError, ValueError) as exc:
        raise ValueError(f"date={column!r} must hold dates: {exc}") from None
    bad = values.isna() & col.notna()
    if bad.any():
        raise ValueError(f"date={column!r} must hold dates; got {_first(col, bad)}")
    return values


def _clean_lines(
    frame: pd.DataFrame,
    *,
    customer: str,
    date: str,
    amount: str | None,
    quantity: str | None,
    price: str | None,
    invoice: str | None,
) -> pd.DataFrame:
    when = _dates(frame, date)
    if amount is not None:
        value = _numeric(frame, amount, "amount")
    else:
        value = _numeric(frame, quantity, "quantity") * _numeric(frame, price, "price")
    cancelled = value < 0
    if quantity is not None:
        cancelled |= _numeric(frame, quantity, "quantity") < 0
    if invoice is not None:
        number = frame[invoice].astype("str").str.strip().str.upper()
        cancelled |= number.str.startswith(CANCELLATION_PREFIX).fillna(False).to_numpy(bool)
    lines = pd.DataFrame(
        {
            "customer": frame[customer],
            "when": when,
            "value": value.where(~cancelled, -value.abs()),
            "purchase": ~cancelled,
            "basket": frame[invoice] if invoice is not None else when,
        },
        index=frame.index,
    )
    no_id = lines["customer"].isna()
    incomplete = ~no_id & (lines["when"].isna() | lines["value"].isna())
    if no_id.any() or incomplete.any():
        logger.info(
            "rfm: dropped %d of %d lines without a customer id and %d without a date or value",
            int(no_id.sum()),
            len(lines),
            int(incomplete.sum()),
        )
    return lines[~no_id & ~incomplete]


def _customer_index(ids: pd.Index, name: str) -> pd.Index:
    if pd.api.types.is_float_dtype(ids.dtype) or pd.api.types.is_integer_dtype(ids.dtype):
        values = ids.to_numpy(dtype="float64")
        if len(values) and np.all(np.mod(values, 1) == 0) and np.abs(values).max() < 2**53:
            # 17850.0 in a CSV column that had gaps (or a nullable Int64) is customer 17850
            ids = pd.Index(values.astype("int64"))
    return ids.rename(name)


def _reference_day(lines: pd.DataFrame, now: Any) -> pd.Timestamp:
    if now is None:
        if lines.empty:
            raise ValueError("rfm: no transaction lines left after dropping missing customer ids")
        return lines["when"].max().normalize() + pd.Timedelta(days=1)
    try:
        day = pd.Timestamp(now)
    except (TypeError, ValueError):
        raise ValueError(f"now must be a date; got {now!r}") from None
    if pd.isna(day):
        raise ValueError(f"now must be a date; got {now!r}")
    tz = getattr(lines["when"].dtype, "tz", None)
    if tz is not None and day.tzinfo is None:
        day = day.tz_localize(tz)
    elif tz is None and day.tzinfo is not None:
        raise ValueError(f"now={now!r} has a time zone but the dates do not")
    return day.normalize()


def _summarise(lines: pd.DataFrame, *, name: str, now: Any) -> pd.DataFrame:
    day = _reference_day(lines, now)
    purchases = lines[lines["purchase"]]
    if purchases.empty:
        raise ValueError("rfm: no purchases left (every line is a cancellation or lacks an id)")
    last = purchases.groupby("customer", sort=True)["when"].max()
    if last.max().normalize() > day:
        raise ValueError(f"now={now!r} is before the last purchase, on {last.max():%Y-%m-%d}")
    frequency = purchases.groupby("customer", sort=True)["basket"].nunique()
    monetary = lines.groupby("customer", sort=True)["value"].sum()
    n_dropped = monetary.index.difference(last.index).size
    if n_dropped:
        logger.info("rfm: dropped %d customers who only have cancellations", n_dropped)
    table = pd.DataFrame(
        {
            "recency": (day - last.dt.normalize()).dt.days.astype("int64"),
            "frequency": frequency.astype("int64"),
            "monetary": monetary.reindex(last.index).astype("float64"),
        }
    )
    table.index = _customer_index(table.index, name)
    return table
