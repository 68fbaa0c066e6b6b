"""Loader for the "Online Retail" transactions (UCI), from a file the user gives.

Too large to bundle (541,909 lines). Source: UCI Machine Learning Repository, "Online Retail",
donated by Daqing Chen (2015), described in Chen, Sain & Guo (2012), "Data mining for the online
retail industry: A case study of RFM model-based customer segmentation using data mining",
Journal of Database Marketing & Customer Strategy Management 19, 197-208,
doi:10.1057/dbm.2012.17. Licence CC BY 4.0.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from clusterlab.io import read_table

__all__ = ["ONLINE_RETAIL_COLUMNS", "load_online_retail"]

ONLINE_RETAIL_COLUMNS = (
    "InvoiceNo",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "UnitPrice",
    "CustomerID",
    "Country",
)
_FILE_NAMES = ("online_retail.csv.gz", "online_retail.csv", "Online Retail.xlsx")


def load_online_retail(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Load the online-retail transaction log (one row per invoice line).

    Parameters
    ----------
    path : str or path-like
        The CSV (optionally gzipped) or the original ``Online Retail.xlsx``, or a folder holding
        one of ``online_retail.csv.gz``, ``online_retail.csv``, ``Online Retail.xlsx``.

    Returns
    -------
    pandas.DataFrame
        Columns ``InvoiceNo``, ``StockCode``, ``Description`` (str), ``Quantity`` (int64),
        ``InvoiceDate`` (datetime64), ``UnitPrice`` (float64), ``CustomerID`` (nullable Int64:
        about a quarter of the lines have none), ``Country`` (str). Cancellations have an
        ``InvoiceNo`` starting with ``"C"`` and a negative ``Quantity``. Turn the log into one row
        per customer with :func:`clusterlab.datasets.rfm`.

    Raises
    ------
    FileNotFoundError
        Nothing at ``path``.
    ValueError
        The file lacks some of the expected columns.

    Examples
    --------
    >>> log = load_online_retail("data/online-retail")  # doctest: +SKIP
    >>> log.shape  # doctest: +SKIP
    (541909, 8)
    """
    file = _locate(Path(path))
    text_ids = {"InvoiceNo": "str", "StockCode": "str"}
    frame = read_table(file, dtype=text_ids) if file.suffix != ".xlsx" else read_table(file)
    missing = [c for c in ONLINE_RETAIL_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"{file} is not the online-retail log: it lacks the columns {missing}")
    frame = frame[list(ONLINE_RETAIL_COLUMNS)].copy()
    for column in ("InvoiceNo", "StockCode", "Description", "Country"):
        frame[column] = frame[column].astype("str")
    frame["Quantity"] = frame["Quantity"].astype("int64")
    frame["InvoiceDate"] = pd.to_datetime(frame["InvoiceDate"])
    frame["UnitPrice"] = frame["UnitPrice"].astype("float64")
    frame["CustomerID"] = frame["CustomerID"].astype("Float64").astype("Int64")
    return frame


def _locate(path: Path) -> Path:
    if path.is_dir():
        for name in _FILE_NAMES:
            if (path / name).is_file():
                return path / name
        raise FileNotFoundError(f"{path} holds none of {', '.join(_FILE_NAMES)}")
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    return path
