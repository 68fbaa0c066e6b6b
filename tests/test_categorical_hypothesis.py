"""Hypothesis tests of input handling: random mixed tables, missing values, unseen categories."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clusterlab import KMedoids, KModes, KPrototypes
from clusterlab.metrics import gower_distances
from tests.checks import check_labels

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: One value type per column, as real tables have (a column of mixed Python types would make
#: ``True == 1`` a question of taste).
_COLUMN_VALUES = [
    st.sampled_from(["a", "b", "c", "d", None]),
    st.sampled_from([1, 2, 3]),
    st.sampled_from([True, False]),
    st.sampled_from(["x", "yy", "zzz"]),
]


@st.composite
def tables(draw, min_rows=3, max_rows=25, numeric=True):
    n = draw(st.integers(min_rows, max_rows))
    kinds = draw(st.lists(st.integers(0, len(_COLUMN_VALUES) - 1), min_size=1, max_size=4))
    data = {}
    for j, kind in enumerate(kinds):
        data[f"c{j}"] = pd.Series(
            draw(st.lists(_COLUMN_VALUES[kind], min_size=n, max_size=n)), dtype=object
        )
    if numeric:
        for j in range(draw(st.integers(0, 2))):
            data[f"x{j}"] = draw(
                st.lists(
                    st.floats(-100, 100, allow_nan=False, allow_subnormal=False),
                    min_size=n,
                    max_size=n,
                )
            )
    return pd.DataFrame(data)


def _expected_dissimilarity(model, X: pd.DataFrame, gamma: float) -> np.ndarray:
    """Dissimilarities computed from ``cluster_centroids_`` by plain Python equality: a category
    not seen in fit equals no mode (the documented rule for unseen categories)."""
    cent = model.cluster_centroids_
    cat = set(model.categorical_.tolist())
    out = np.zeros((len(X), cent.shape[0]))
    for i in range(len(X)):
        for c in range(cent.shape[0]):
            total = 0.0
            for j in range(X.shape[1]):
                v = X.iat[i, j]
                if j in cat:
                    v = None if pd.isna(v) else v
                    total += gamma * (v != cent[c, j])
                else:
                    total += (float(v) - cent[c, j]) ** 2
            out[i, c] = total
    return out


@SETTINGS
@given(X=tables(numeric=False), k=st.integers(1, 4), data=st.data())
def test_kmodes_contract_and_unseen_categories(X, k, data):
    n_distinct = len(X.drop_duplicates())
    k = min(k, n_distinct)
    km = KModes(k).fit(X)
    check_labels(km.labels_, len(X))
    assert np.array_equal(km.predict(X), km.labels_)
    D = km.transform(X)
    assert km.cost_ == pytest.approx(D.min(axis=1).sum())
    # new rows: some values replaced by categories never seen in fit
    new = X.copy()
    mask = data.draw(st.lists(st.booleans(), min_size=X.size, max_size=X.size))
    mask = np.asarray(mask).reshape(X.shape)
    for j, col in enumerate(new.columns):
        new[col] = [f"unseen-{v}" if m else v for v, m in zip(new[col], mask[:, j], strict=True)]
    expected = _expected_dissimilarity(km, new, 1.0)
    assert np.array_equal(km.transform(new), expected)
    assert np.array_equal(km.predict(new), expected.argmin(axis=1))


@SETTINGS
@given(X=tables(), k=st.integers(1, 3))
def test_kprototypes_contract(X, k):
    k = min(k, len(X.drop_duplicates()))
    before = X.copy()
    kp = KPrototypes(k, random_state=0).fit(X)
    pd.testing.assert_frame_equal(X, before)
    assert np.array_equal(kp.predict(X), kp.labels_)
    expected = _expected_dissimilarity(kp, X, kp.gamma_)
    assert np.allclose(kp.transform(X), expected, rtol=1e-9, atol=1e-9)
    assert kp.cost_ == pytest.approx(expected[np.arange(len(X)), kp.labels_].sum(), rel=1e-9)


def _gower_reference(X: pd.DataFrame) -> np.ndarray:
    """Gower's coefficient, straight from the definition (numeric: range over the data)."""
    n, d = X.shape
    numeric = [pd.api.types.is_float_dtype(X[c]) for c in X.columns]
    ranges = [X[c].max() - X[c].min() if numeric[j] else None for j, c in enumerate(X.columns)]
    D = np.zeros((n, n))
    for i in range(n):
        for k in range(n):
            num = den = 0.0
            for j in range(d):
                a, b = X.iat[i, j], X.iat[k, j]
                if pd.isna(a) or pd.isna(b):
                    continue
                if numeric[j] and ranges[j] > 0:
                    s = min(abs(a - b) / ranges[j], 1.0)
                else:
                    s = float(a != b)
                num += s
                den += 1
            D[i, k] = num / den if den else 1.0
        D[i, i] = 0.0  # a matrix of a table with itself: every row is at 0 from itself
    return D


@SETTINGS
@given(X=tables(min_rows=2, max_rows=12), holes=st.data())
def test_gower_equals_the_definition_with_missing_values(X, holes):
    X = X.copy()
    for col in X.columns:
        if pd.api.types.is_float_dtype(X[col]):
            drop = holes.draw(st.lists(st.booleans(), min_size=len(X), max_size=len(X)))
            X.loc[np.asarray(drop), col] = np.nan
    D = gower_distances(X, dtype=np.float64)
    assert np.allclose(D, _gower_reference(X), atol=1e-12)
    assert np.array_equal(D, D.T)


@SETTINGS
@given(
    X=st.lists(st.lists(st.integers(-5, 5), min_size=2, max_size=2), min_size=3, max_size=20).map(
        lambda rows: np.asarray(rows, dtype=float)
    ),
    k=st.integers(1, 3),
    method=st.sampled_from(["fasterpam", "pam", "alternate", "clara"]),
)
def test_kmedoids_loss_is_the_sum_of_nearest_medoid_distances(X, k, method):
    from sklearn.metrics import pairwise_distances

    k = min(k, len(X))
    km = KMedoids(k, method=method, sample_size=5, random_state=0).fit(X)
    D = pairwise_distances(X)
    assert np.unique(km.medoid_indices_).size == k
    assert km.inertia_ == pytest.approx(D[:, km.medoid_indices_].min(axis=1).sum(), abs=1e-9)
    assert np.array_equal(km.predict(X), km.labels_)
    assert np.array_equal(km.labels_, D[:, km.medoid_indices_].argmin(axis=1))
