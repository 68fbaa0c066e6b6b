"""Real data sets: one bundled (wholesale customers), loaders for the rest take a path.

Nothing here downloads anything.
"""

from __future__ import annotations

from importlib import resources

import pandas as pd

__all__ = ["load_wholesale_customers"]

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
