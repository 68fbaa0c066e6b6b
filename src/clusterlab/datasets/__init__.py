"""Real data sets: wholesale customers and PyCaret's tutorial data bundled, loaders for the rest
take a path.

Nothing here downloads anything. :func:`list_datasets` says what exists and where it lives;
:func:`rfm` turns a transaction log into the recency / frequency / monetary table used for customer
segmentation.
"""

from __future__ import annotations

from importlib import resources

import pandas as pd

from clusterlab.datasets.benchmarks import Benchmark, list_benchmarks, load_benchmark
from clusterlab.datasets.pycaret_data import get_data
from clusterlab.datasets.retail import load_online_retail
from clusterlab.datasets.rfm import rfm

__all__ = [
    "Benchmark",
    "get_data",
    "list_benchmarks",
    "list_datasets",
    "load_benchmark",
    "load_online_retail",
    "load_wholesale_customers",
    "rfm",
]

WHOLESALE_CITATION = (
    "Wholesale customers data set, UCI Machine Learning Repository, donated by "
    "Margarida G. M. S. Cardoso (2014), CC BY 4.0."
)


def load_wholesale_customers() -> pd.DataFrame:
    """Load the wholesale customers data set (bundled, 440 rows).

    Annual spending in monetary units of 440 clients of a wholesale distributor in Portugal on six
    product categories (``Fresh``, ``Milk``, ``Grocery``, ``Frozen``, ``Detergents_Paper``,
    ``Delicassen``), with ``Channel`` (1 = Horeca: hotel/restaurant/café, 2 = Retail) and
    ``Region`` (1 = Lisbon, 2 = Oporto, 3 = Other). ``Channel`` is a natural check label: leave it
    out of the features when you use it as one.

    Source: UCI Machine Learning Repository, "Wholesale customers", donated by Margarida G. M. S.
    Cardoso (2014), licence CC BY 4.0.

    Returns
    -------
    pandas.DataFrame
        440 rows, 8 integer columns.

    Examples
    --------
    >>> from clusterlab.datasets import load_wholesale_customers
    >>> load_wholesale_customers().shape
    (440, 8)
    """
    path = resources.files("clusterlab.datasets") / "data" / "wholesale_customers.csv"
    with resources.as_file(path) as file:
        return pd.read_csv(file)


_CATALOGUE = [
    {
        "name": "wholesale_customers",
        "rows": 440,
        "columns": 8,
        "description": "annual spending of a Portuguese wholesaler's clients on six product "
        "categories, with Channel (Horeca / Retail) and Region",
        "source": "UCI Machine Learning Repository, donated by M. G. M. S. Cardoso (2014)",
        "licence": "CC BY 4.0",
        "location": "bundled",
        "loader": "load_wholesale_customers()",
    },
    {
        "name": "jewellery",
        "rows": 505,
        "columns": 4,
        "description": "jewellery customers: Age, Income, SpendingScore, Savings (PyCaret 3's "
        "clustering tutorial)",
        "source": "PyCaret's data repository (github.com/pycaret/datasets)",
        "licence": "MIT",
        "location": "bundled",
        "loader": "get_data('jewellery')",
    },
    {
        "name": "mice",
        "rows": 1_080,
        "columns": 82,
        "description": "protein expression levels of mice with MouseID, Genotype, Treatment, "
        "Behavior and class (PyCaret's CLU101 tutorial)",
        "source": "UCI Machine Learning Repository; Higuera, Gardiner & Cios (2015), "
        "doi:10.1371/journal.pone.0129126",
        "licence": "CC BY 4.0",
        "location": "bundled",
        "loader": "get_data('mice')",
    },
    {
        "name": "online_retail",
        "rows": 541_909,
        "columns": 8,
        "description": "invoice lines of a UK online retailer, 2010-12-01 to 2011-12-09; "
        "about 4,300 customers after rfm()",
        "source": "UCI Machine Learning Repository, donated by D. Chen (2015); "
        "Chen, Sain & Guo (2012), doi:10.1057/dbm.2012.17",
        "licence": "CC BY 4.0",
        "location": "path",
        "loader": "load_online_retail(path)",
    },
    {
        "name": "clustering_benchmarks",
        "rows": pd.NA,
        "columns": pd.NA,
        "description": "Gagolewski's benchmark suite v1: 69 data sets in batteries fcps, graves, "
        "other, sipu, wut (105 to 105,600 points, mostly 2-D and 3-D) with reference partitions",
        "source": "Gagolewski, SoftwareX 20 (2022) 101270, doi:10.1016/j.softx.2022.101270",
        "licence": "research use (see the suite's LICENSE)",
        "location": "path",
        "loader": "load_benchmark(battery, name, root=path)",
    },
]


def list_datasets() -> pd.DataFrame:
    """List the data sets clusterlab can load, and where each comes from.

    Returns
    -------
    pandas.DataFrame
        One row per data set with ``name``, ``rows``, ``columns`` (nullable Int64: a suite of
        data sets has none), ``description``, ``source``, ``licence``, ``location``
        (``"bundled"`` with the package, or ``"path"``: the loader takes the file or folder)
        and ``loader``.

    Examples
    --------
    >>> list_datasets()["name"].tolist()
    ['wholesale_customers', 'jewellery', 'mice', 'online_retail', 'clustering_benchmarks']
    """
    table = pd.DataFrame(_CATALOGUE)
    return table.astype({"rows": "Int64", "columns": "Int64"})
