"""PyCaret's ``get_data`` for the data of its clustering tutorials, bundled (nothing is downloaded).

``pycaret.datasets.get_data(name)`` downloads a CSV from PyCaret's data repository and returns
``pd.read_csv(file).infer_objects()``. The clustering tutorials use ``jewellery`` (PyCaret 3's
clustering tutorial and tests) and ``mice`` (the CLU101 tutorial); both ship with clusterlab, so a
PyCaret script that starts with ``from pycaret.datasets import get_data`` runs with that import
changed to ``from clusterlab.datasets import get_data``.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

#: name -> (bundled file, what it is)
_BUNDLED: dict[str, tuple[str, str]] = {
    "jewellery": (
        "jewellery.csv",
        "505 jewellery customers: Age, Income, SpendingScore, Savings (PyCaret 3's clustering "
        "tutorial; MIT licence, PyCaret)",
    ),
    "mice": (
        "mice.csv.gz",
        "1,080 rows: MouseID, 77 protein expression levels, Genotype, Treatment, Behavior, class "
        "(PyCaret's CLU101 tutorial; UCI Mice Protein Expression, CC BY 4.0)",
    ),
    "wholesale": (
        "wholesale_customers.csv",
        "440 clients of a wholesale distributor: spending on six product categories, Channel, "
        "Region (UCI, CC BY 4.0)",
    ),
}


def get_data(  # noqa: PLR0917 - PyCaret's positional order
    dataset: str = "index",
    folder: str | None = None,
    save_copy: bool = False,
    profile_data: bool = False,
    verbose: bool = True,
    address: str | None = None,
) -> pd.DataFrame:
    """Load a bundled data set by its PyCaret name, as ``pycaret.datasets.get_data`` does.

    Parameters
    ----------
    dataset : str, default ``"index"``
        ``"jewellery"``, ``"mice"`` or ``"wholesale"``; ``"index"`` returns the table of the
        names.
    folder, address : None
        PyCaret's download locations. clusterlab downloads nothing: any other value raises a
        ``ValueError`` that says to read the file with ``pandas.read_csv``.
    save_copy : bool, default False
        Also write the data to ``<dataset>.csv`` in the working directory (an existing file is
        never overwritten: ``FileExistsError``).
    profile_data : bool, default False
        PyCaret's pandas-profiling report; not available here (``True`` raises a ``ValueError``).
    verbose : bool, default True
        Print the first five rows, as PyCaret shows them.

    Returns
    -------
    pandas.DataFrame
        The rows and columns of PyCaret's file, with the dtypes ``pandas.read_csv`` infers.

    Examples
    --------
    >>> from clusterlab.datasets import get_data
    >>> get_data("jewellery", verbose=False).shape
    (505, 4)
    """
    for name, value in (("folder", folder), ("address", address)):
        if value is not None:
            raise ValueError(
                f"{name}={value!r}: clusterlab downloads nothing; it bundles "
                f"{sorted(_BUNDLED)}; read other files with pandas.read_csv"
            )
    if profile_data:
        raise ValueError(
            "profile_data=True: clusterlab has no pandas-profiling report; use "
            "ydata_profiling.ProfileReport(data) on the returned frame"
        )
    if not isinstance(dataset, str):
        raise TypeError(f"dataset must be a string; got {type(dataset).__name__}")
    if dataset == "index":
        frame = _index()
    elif dataset in _BUNDLED:
        frame = _read(_BUNDLED[dataset][0])
    else:
        raise ValueError(
            f"dataset must be 'index' or one of {sorted(_BUNDLED)} (the data of PyCaret's "
            f"clustering tutorials bundled with clusterlab; nothing is downloaded); got {dataset!r}"
        )
    if save_copy:
        _save_copy(frame, f"{dataset}.csv")
    if verbose:
        print(frame.head().to_string())
    return frame


def _index() -> pd.DataFrame:
    """The bundled names with their description."""
    rows: list[dict[str, Any]] = [
        {"Dataset": name, "Description": text} for name, (_, text) in _BUNDLED.items()
    ]
    return pd.DataFrame(rows)


def _read(file_name: str) -> pd.DataFrame:
    """One bundled file, read as PyCaret reads its download."""
    path = resources.files("clusterlab.datasets") / "data" / file_name
    with resources.as_file(path) as file:
        return pd.read_csv(file).infer_objects()


def _save_copy(frame: pd.DataFrame, file_name: str) -> None:
    """Write ``frame`` to ``file_name`` in the working directory, never over an existing file."""
    target = Path(os.getcwd()) / file_name
    try:
        with open(target, "x", encoding="utf-8", newline="") as handle:
            frame.to_csv(handle, index=False)
    except FileExistsError:
        raise FileExistsError(
            f"save_copy=True: {str(target)!r} exists; clusterlab does not overwrite it "
            "(move it away or pass save_copy=False)"
        ) from None
