"""Loader for Gagolewski's clustering benchmark suite (version 1), from a folder the user gives.

The suite is not bundled (research-use licence, 69 data sets): point ``root`` at a copy of
https://github.com/gagolews/clustering-data-v1 (the ``BATTERY/NAME.data.gz`` layout).
Cite Gagolewski M., "A framework for benchmarking clustering algorithms", SoftwareX 20 (2022)
101270, doi:10.1016/j.softx.2022.101270.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from clusterlab._base import NOISE

__all__ = ["Benchmark", "list_benchmarks", "load_benchmark"]

_LABELS = re.compile(r"^(?P<name>.+)\.labels(?P<k>\d+)\.gz$")


@dataclass(frozen=True)
class Benchmark:
    """One benchmark data set with all its reference partitions.

    Attributes
    ----------
    battery, name : str
        Where it comes from, e.g. ``("fcps", "atom")``.
    data : numpy.ndarray of shape (n_samples, n_features), float64
    labels : list of numpy.ndarray of shape (n_samples,), int64
        Every reference partition, in file order (``labels0``, ``labels1`` ...), in clusterlab's
        convention: clusters ``0..k-1`` and noise ``-1`` (the files use 1..k and 0 for noise).
        Score only the points that are not noise; several partitions may be equally valid (keep
        the best score).
    n_clusters : list of int
        Number of clusters of each partition.
    description : str
        The data set's description file (source, references).
    """

    battery: str
    name: str
    data: np.ndarray = field(repr=False)
    labels: list[np.ndarray] = field(repr=False)
    n_clusters: list[int]
    description: str = field(repr=False)


def _root(root: str | os.PathLike[str]) -> Path:
    path = Path(root)
    if not path.is_dir():
        raise FileNotFoundError(f"root={str(root)!r} is not a folder holding the benchmark suite")
    return path


def _closest(word: str, options: list[str]) -> str:
    near = difflib.get_close_matches(word, options, n=3)
    return f"; did you mean {', '.join(near)}?" if near else f"; choose from {', '.join(options)}"


def list_benchmarks(root: str | os.PathLike[str]) -> pd.DataFrame:
    """List the data sets of the suite found under ``root``.

    Returns
    -------
    pandas.DataFrame
        Columns ``battery``, ``name``, ``n_partitions``, one row per data set, sorted.
    """
    rows = []
    for data_file in sorted(_root(root).glob("*/*.data.gz")):
        name = data_file.name.removesuffix(".data.gz")
        n_partitions = len(list(data_file.parent.glob(f"{name}.labels*.gz")))
        rows.append((data_file.parent.name, name, n_partitions))
    return pd.DataFrame(rows, columns=["battery", "name", "n_partitions"])


def load_benchmark(battery: str, name: str, *, root: str | os.PathLike[str]) -> Benchmark:
    """Load one data set of the clustering benchmark suite and all its reference partitions.

    Parameters
    ----------
    battery : str
        ``"fcps"``, ``"graves"``, ``"other"``, ``"sipu"``, ``"wut"`` ...
    name : str
        Data set name within the battery, e.g. ``"atom"``.
    root : str or path-like
        Folder of the suite (holding one folder per battery). Nothing is downloaded.

    Returns
    -------
    Benchmark
        ``data`` (float64), ``labels`` (int64, noise ``-1``), ``n_clusters``, ``description``.

    Raises
    ------
    FileNotFoundError
        ``root``, the battery or the data set does not exist (the error suggests close names).
    ValueError
        A label file does not have one label per row of the data.

    Examples
    --------
    >>> b = load_benchmark("fcps", "atom", root="clustering-benchmarks")  # doctest: +SKIP
    >>> b.data.shape, b.n_clusters  # doctest: +SKIP
    ((800, 3), [2])
    """
    base = _root(root)
    batteries = sorted(p.name for p in base.iterdir() if p.is_dir())
    if battery not in batteries:
        raise FileNotFoundError(
            f"battery={battery!r} not found in {base}{_closest(battery, batteries)}"
        )
    folder = base / battery
    data_file = folder / f"{name}.data.gz"
    if not data_file.is_file():
        names = sorted(p.name.removesuffix(".data.gz") for p in folder.glob("*.data.gz"))
        raise FileNotFoundError(
            f"name={name!r} not found in battery {battery!r}{_closest(name, names)}"
        )
    data = pd.read_csv(data_file, sep=r"\s+", header=None, dtype="float64").to_numpy()
    label_files = sorted(
        (int(m["k"]), p)
        for p in folder.glob(f"{name}.labels*.gz")
        if (m := _LABELS.match(p.name)) and m["name"] == name
    )
    labels = [_read_partition(path, len(data)) for _, path in label_files]
    text_file = folder / f"{name}.txt"
    description = (
        text_file.read_text(encoding="utf-8", errors="replace") if text_file.exists() else ""
    )
    return Benchmark(
        battery=battery,
        name=name,
        data=data,
        labels=labels,
        n_clusters=[int(lab.max()) + 1 for lab in labels],
        description=description,
    )


def _read_partition(path: Path, n_samples: int) -> np.ndarray:
    raw = pd.read_csv(path, header=None, sep=r"\s+", dtype="int64").to_numpy().ravel()
    if raw.size != n_samples:
        raise ValueError(f"{path}: {raw.size} labels for {n_samples} points")
    # files: 0 = noise, 1..k = clusters; clusterlab: -1 = noise, 0..k-1 = clusters
    return np.where(raw == 0, NOISE, raw - 1).astype(np.int64)
