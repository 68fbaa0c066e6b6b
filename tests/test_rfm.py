"""rfm(): a hand-computed mini transaction log, the documented rules, and the online-retail log."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from clusterlab.datasets import load_online_retail, rfm

ROOT = Path(__file__).resolve().parents[1]


def shared_data() -> Path | None:
    """../shared/data beside the repository (CI), or two levels up from a worktree."""
    for candidate in (ROOT.parent / "shared" / "data", ROOT.parent.parent / "shared" / "data"):
        if candidate.is_dir():
            return candidate
    return None


@pytest.fixture
def log():
    # customer A: invoice 1 (two lines, 10 + 3), invoice 2 (20), a cancellation of 3 after them;
    # customer B: one invoice of 10; customer C: only a cancellation; one line without a customer
    return pd.DataFrame(
        {
            "cust": ["A", "A", "A", "A", "B", "C", None],
            "when": [
                "2024-01-01 10:00",
                "2024-01-01 10:00",
                "2024-01-10 09:00",
                "2024-01-12 11:00",
                "2024-01-15 18:00",
                "2024-01-05 08:00",
                "2024-01-20 12:00",
            ],
            "inv": ["1", "1", "2", "C3", "4", "C5", "6"],
            "qty": [2, 1, 1, -1, 4, -2, 100],
            "price": [5.0, 3.0, 20.0, 3.0, 2.5, 1.0, 100.0],
        }
    )


EXPECTED = pd.DataFrame(
    {"recency": [6, 1], "frequency": [2, 1], "monetary": [30.0, 10.0]},
    index=pd.Index(["A", "B"], name="cust"),
)


def _rfm(log, **kw):
    args = {"customer": "cust", "date": "when", "quantity": "qty", "price": "price"}
    return rfm(log, **(args | {"invoice": "inv"} | kw))


def test_hand_computed(log):
    table = _rfm(log)
    pd.testing.assert_frame_equal(table, EXPECTED, check_index_type=False)
    assert table.dtypes.tolist() == [np.int64, np.int64, np.float64]


def test_now_given(log):
    table = _rfm(log, now="2024-02-01")
    assert table["recency"].tolist() == [22, 17]
    # a time of day does not matter: recency counts calendar days
    assert _rfm(log, now=pd.Timestamp("2024-02-01 23:59"))["recency"].tolist() == [22, 17]


def test_without_invoice_counts_distinct_timestamps(log):
    table = _rfm(log, invoice=None)
    assert table["frequency"].tolist() == [2, 1]
    # without invoices only the negative quantity marks the cancellation: same result here
    assert table["monetary"].tolist() == [30.0, 10.0]


def test_amount_column_and_c_invoice_with_positive_amount(log):
    amounts = log.assign(value=log["qty"].abs() * log["price"]).drop(columns=["qty", "price"])
    table = rfm(amounts, customer="cust", date="when", amount="value", invoice="inv")
    pd.testing.assert_frame_equal(table, EXPECTED, check_index_type=False)


def test_negative_amount_is_a_refund(log):
    frame = pd.DataFrame(
        {"cust": [1, 1, 2], "when": ["2024-01-01", "2024-01-03", "2024-01-02"], "v": [5, -2, 4]}
    )
    table = rfm(frame, customer="cust", date="when", amount="v")
    assert table.to_dict("list") == {
        "recency": [3, 2],
        "frequency": [1, 1],
        "monetary": [3.0, 4.0],
    }


def test_logs_what_it_drops(log, caplog):
    with caplog.at_level(logging.INFO, logger="clusterlab.datasets.rfm"):
        _rfm(log)
    assert "dropped 1 of 7 lines without a customer id" in caplog.text
    assert "dropped 1 customers who only have cancellations" in caplog.text


def test_input_not_modified(log):
    before = log.copy()
    _rfm(log)
    pd.testing.assert_frame_equal(log, before)


def test_float_ids_become_int(log):
    frame = log.assign(cust=[17850.0, 17850.0, 17850.0, 17850.0, 12.0, 13.0, np.nan])
    table = _rfm(frame)
    assert table.index.dtype == np.int64
    assert table.index.tolist() == [12, 17850]


def test_datetime_column_and_row_order_do_not_matter(log):
    shuffled = log.assign(when=pd.to_datetime(log["when"])).sample(frac=1, random_state=0)
    pd.testing.assert_frame_equal(_rfm(shuffled), EXPECTED, check_index_type=False)


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"customer": "nope"}, r"customer='nope' is not a column of transactions; columns: 'cust'"),
        ({"price": None}, "give amount=COLUMN, or quantity=COLUMN and price=COLUMN"),
        ({"amount": "qty"}, "give amount= or price="),
        ({"now": "2024-01-12"}, "now='2024-01-12' is before the last purchase, on 2024-01-15"),
        ({"now": "yesterday-ish"}, "now must be a date; got 'yesterday-ish'"),
    ],
)
def test_errors(log, kw, match):
    with pytest.raises(ValueError, match=match):
        _rfm(log, **kw)


def test_bad_values(log):
    with pytest.raises(ValueError, match=r"price='price' must hold numbers; got 'free' in row 2"):
        _rfm(log.assign(price=log["price"].astype(object).where(log.index != 2, "free")))
    with pytest.raises(ValueError, match=r"date='when' must hold dates; got 'soon' in row 0"):
        _rfm(log.assign(when=["soon", *log["when"][1:]]))
    with pytest.raises(ValueError, match="price='price' holds an infinite value"):
        _rfm(log.assign(price=np.inf))


def test_not_a_frame():
    with pytest.raises(TypeError, match="transactions must be a pandas DataFrame; got list"):
        rfm([], customer="a", date="b", amount="c")


def test_nothing_left(log):
    with pytest.raises(ValueError, match="no transaction lines left"):
        _rfm(log.assign(cust=None))
    with pytest.raises(ValueError, match="no purchases left"):
        _rfm(log.assign(inv="C9"))
    with pytest.raises(ValueError, match="no transaction lines left"):
        _rfm(log.iloc[:0])


@pytest.fixture(scope="module")
def online_retail():
    data = shared_data()
    if data is None or not (data / "online-retail" / "online_retail.csv.gz").is_file():
        pytest.skip("online-retail data not found beside the repository (../shared/data)")
    return load_online_retail(data / "online-retail" / "online_retail.csv.gz")


@pytest.mark.slow
def test_online_retail(online_retail):
    log = online_retail
    assert log.shape == (541_909, 8)
    assert log["CustomerID"].isna().sum() == 135_080
    assert str(log["InvoiceDate"].dtype).startswith("datetime64")
    table = rfm(
        log,
        customer="CustomerID",
        date="InvoiceDate",
        quantity="Quantity",
        price="UnitPrice",
        invoice="InvoiceNo",
    )
    # 4,372 customers have an id; 33 of them only cancelled: 4,339 remain
    assert len(table) == 4_339
    assert table.index.is_unique and table.index.dtype == np.int64
    assert table["recency"].between(1, 374).all()
    assert (table["frequency"] >= 1).all()
    # customer 12346 bought 74,215 mugs on 2011-01-18 and returned them the same day
    assert table.loc[12346].tolist() == [326, 1, 0.0]
    # monetary equals purchases minus cancellations, line by line, over the customers kept
    kept = log[log["CustomerID"].isin(table.index)]
    total = (kept["Quantity"] * kept["UnitPrice"]).sum()
    assert table["monetary"].sum() == pytest.approx(total, rel=1e-12)
