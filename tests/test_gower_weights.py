"""Gower's distance with ``weights='balanced'``: each column weighed by 1 / its mean
dissimilarity over the pairs of fitted rows (issue 18), checked against brute force over all
pairs, with missing values, for new rows, and in KMedoids."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clusterlab import GowerDistance, KMedoids
from clusterlab._mixed import mean_abs_difference, mismatch_rate
from clusterlab.metrics import gower_distances


def _pair_mean(values: list, differ) -> float:
    """Brute force: the mean of ``differ(a, b)`` over the pairs i < j of present values."""
    present = [v for v in values if not pd.isna(v)]
    pairs = [
        differ(present[i], present[j])
        for i in range(len(present))
        for j in range(i + 1, len(present))
    ]
    return float(np.mean(pairs)) if pairs else 0.0


@pytest.fixture(scope="module")
def table():
    rng = np.random.default_rng(3)
    n = 60
    X = pd.DataFrame(
        {
            "spend": rng.lognormal(3.0, 1.0, size=n),
            "age": rng.integers(18, 80, size=n).astype(float),
            "plan": rng.choice(["basic", "plus", "pro"], size=n, p=[0.7, 0.2, 0.1]),
            "member": rng.random(n) < 0.5,
        }
    )
    X.loc[[3, 9, 20], "spend"] = np.nan
    X.loc[[5, 11], "plan"] = None
    return X


def _brute_force_weights(X: pd.DataFrame) -> np.ndarray:
    out = []
    for name in X.columns:
        col = X[name]
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            span = col.max() - col.min()
            out.append(_pair_mean(col.tolist(), lambda a, b, s=span: abs(a - b) / s))
        else:
            out.append(_pair_mean(col.tolist(), lambda a, b: float(a != b)))
    return 1.0 / np.asarray(out)


def test_weights_are_one_over_the_brute_force_mean_difference(table):
    gd = GowerDistance(weights="balanced").fit(table)
    np.testing.assert_allclose(gd.weights_, _brute_force_weights(table), rtol=1e-12)


def test_every_column_adds_the_same_on_average(table):
    """The definition: the mean weighted dissimilarity of each column over the pairs of
    fitted rows with both values present is 1 for every column."""
    gd = GowerDistance(weights="balanced").fit(table)
    for j, name in enumerate(table.columns):
        alone = gower_distances(table[[name]], dtype=np.float64)
        both = table[name].notna().to_numpy()
        upper = np.triu(np.outer(both, both), k=1)
        assert (gd.weights_[j] * alone[upper]).mean() == pytest.approx(1.0, rel=1e-9)


def test_new_rows_get_the_fitted_weights(table):
    fit, new = table.iloc[:40], table.iloc[40:]
    gd = GowerDistance(weights="balanced").fit(fit)
    explicit = GowerDistance(weights=gd.weights_).fit(fit)
    np.testing.assert_array_equal(gd.transform(new), explicit.transform(new))
    np.testing.assert_allclose(gd.weights_, _brute_force_weights(fit), rtol=1e-12)


def test_gower_distances_balanced_equals_the_transformer(table):
    D = gower_distances(table, weights="balanced", dtype=np.float64)
    gd = GowerDistance(weights="balanced").fit(table)
    np.testing.assert_array_equal(D, gd.pairwise(table, dtype=np.float64))
    assert np.allclose(np.diag(D), 0.0) and D.max() <= 1.0


def test_constant_column_keeps_weight_one():
    X = pd.DataFrame({"a": [1.0, 2.0, 4.0], "same": [5.0, 5.0, 5.0], "c": ["x", "x", "y"]})
    weights = GowerDistance(weights="balanced").fit(X).weights_
    assert weights[1] == 1.0
    assert weights[0] == pytest.approx(1 / ((1 / 3 + 1 + 2 / 3) / 3))
    assert weights[2] == pytest.approx(1.5)


def test_unknown_weights_string_is_refused(table):
    with pytest.raises(ValueError, match="weights"):
        GowerDistance(weights="equal").fit(table)
    with pytest.raises(ValueError, match="weights must be None, 'balanced'"):
        KMedoids(2, metric=GowerDistance(weights="equal")).fit(table)


def test_kmedoids_with_balanced_gower_predicts_its_labels(table):
    km = KMedoids(3, metric=GowerDistance(weights="balanced")).fit(table)
    np.testing.assert_array_equal(km.predict(table), km.labels_)
    gd = GowerDistance(weights="balanced").fit(table)
    D = gd.transform(table).astype(np.float64)
    loss = D[np.arange(len(table)), km.medoid_indices_[km.labels_]].sum()
    assert km.inertia_ == pytest.approx(loss, rel=1e-5)


def test_balanced_weights_lift_numbers_against_categories():
    """Two groups in three numeric columns, crossed with two noise categories: under equal
    weights a category mismatch (1) outweighs the range-scaled gap between the groups, and the
    split mixes them; balanced weights recover the groups."""
    from sklearn.metrics import adjusted_rand_score

    rng = np.random.default_rng(0)
    n = 200
    group = np.repeat([0, 1], n // 2)
    X = pd.DataFrame({f"x{j}": rng.normal(0, 1, n) + 6 * group for j in range(3)})
    X["noise"] = rng.choice(["p", "q"], size=n)
    X["noise2"] = rng.choice(["r", "s", "t"], size=n)
    equal = KMedoids(2, metric="gower").fit(X).labels_
    balanced = KMedoids(2, metric=GowerDistance(weights="balanced")).fit(X).labels_
    assert adjusted_rand_score(group, balanced) > 0.9
    assert adjusted_rand_score(group, equal) < 0.6


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=0, max_size=30))
def test_mean_abs_difference_is_the_pair_mean(values):
    expected = _pair_mean(values, lambda a, b: abs(a - b))
    got = mean_abs_difference(np.asarray(values, dtype=np.float64))
    assert got == pytest.approx(expected, rel=1e-9, abs=1e-6)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 4), min_size=0, max_size=30))
def test_mismatch_rate_is_the_pair_mean(codes):
    expected = _pair_mean(codes, lambda a, b: float(a != b))
    got = mismatch_rate(np.asarray(codes, dtype=np.float64))
    assert got == pytest.approx(expected, abs=1e-12)
