"""Segment profiles against hand-computed values on a tiny frame."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clusterlab.insight import profile_segments


@pytest.fixture
def tiny():
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0, 10.0, 20.0], "c": list("xxyyyz")})
    return frame, np.array([0, 0, 0, 1, 1, -1])


def test_sizes_and_shares(tiny):
    profiles = profile_segments(*tiny)
    assert profiles.sizes.index.tolist() == ["0", "1", "noise"]
    assert profiles.sizes["size"].tolist() == [3, 2, 1]
    np.testing.assert_allclose(profiles.sizes["share"], [3 / 6, 2 / 6, 1 / 6])


def test_numeric_statistics_by_hand(tiny):
    numeric = profile_segments(*tiny).numeric.set_index("segment")
    pop_mean = 40 / 6
    pop_std = math.sqrt(((np.array([1, 2, 3, 4, 10, 20]) - pop_mean) ** 2).sum() / 5)
    assert numeric.loc["0", "mean"] == pytest.approx(2.0)
    assert numeric.loc["1", "median"] == pytest.approx(7.0)
    assert numeric.loc["noise", "mean"] == pytest.approx(20.0)
    assert numeric.loc["0", "population_mean"] == pytest.approx(pop_mean)
    assert numeric.loc["0", "population_median"] == pytest.approx(3.5)
    assert numeric.loc["0", "lift"] == pytest.approx(2.0 / pop_mean)
    assert numeric.loc["1", "std_diff"] == pytest.approx((7.0 - pop_mean) / pop_std)


def test_categories_by_hand(tiny):
    cats = profile_segments(*tiny).categorical
    seg0 = cats[cats["segment"] == "0"].set_index("category")
    assert seg0.index.tolist() == ["x", "y"]  # ordered by share in the segment
    assert seg0.loc["x", "share"] == pytest.approx(2 / 3)
    assert seg0.loc["x", "population_share"] == pytest.approx(1 / 3)
    assert seg0.loc["x", "lift"] == pytest.approx(2.0)
    assert seg0.loc["y", "lift"] == pytest.approx((1 / 3) / (1 / 2))


def test_description_ranks_by_standardised_difference(tiny):
    # c = x: (2/3 - 1/3) / sqrt(1/3 * 2/3) = 0.707; a: (2 - 6.67) / 7.26 = -0.64
    profiles = profile_segments(*tiny)
    assert profiles.descriptions["0"] == "c = x (67%, x2.0), low a (x0.3)"
    assert profiles.sizes.loc["0", "description"] == profiles.descriptions["0"]


def test_description_without_lift_uses_sd():
    frame = pd.DataFrame({"t": [-1.0, -2.0, 1.0, 2.0]})
    profiles = profile_segments(frame, [0, 0, 1, 1])
    assert profiles.descriptions["1"] == f"high t (+{1.5 / frame['t'].std():.1f} sd)"
    assert math.isnan(profiles.numeric.loc[0, "lift"])


def test_nothing_distinctive():
    frame = pd.DataFrame({"a": [1.0, 2.0, 1.0, 2.0]})
    profiles = profile_segments(frame, [0, 0, 1, 1])
    assert profiles.descriptions["0"] == "close to the population average"


def test_wholesale_describes_grocery_segment(wholesale):
    from sklearn.cluster import KMeans
    from sklearn.preprocessing import StandardScaler

    spend = wholesale.drop(columns=["Channel", "Region"])
    X = StandardScaler().fit_transform(np.log1p(spend))
    labels = KMeans(3, n_init=5, random_state=0).fit_predict(X)
    profiles = profile_segments(spend, labels)
    table = profiles.to_pandas()
    assert table["size"].sum() == 440
    assert list(table.columns[2:-1]) == list(spend.columns)
    # the segment with the highest Grocery mean is described as high Grocery or Detergents_Paper
    top = table["Grocery"].idxmax()
    assert (
        "high Grocery" in profiles.descriptions[top]
        or "high Detergents_Paper" in (profiles.descriptions[top])
    )
    assert str(profiles).count("\n") == 2


def test_array_input_and_input_untouched():
    X = np.array([[1.0, 5.0], [2.0, 6.0], [9.0, 1.0]])
    before = X.copy()
    profiles = profile_segments(X, [0, 0, 1])
    assert set(profiles.numeric["feature"]) == {"x0", "x1"}
    np.testing.assert_array_equal(X, before)


def test_errors(tiny):
    frame, labels = tiny
    with pytest.raises(ValueError, match="labels must have one entry per row"):
        profile_segments(frame, labels[:-1])
    with pytest.raises(ValueError, match="labels must be >= -1"):
        profile_segments(frame, labels - 3)
    with pytest.raises(TypeError, match="labels must be integer"):
        profile_segments(frame, ["a"] * 6)
    with pytest.raises(ValueError, match="n_describe must be an int >= 1; got 0"):
        profile_segments(frame, labels, n_describe=0)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(-1e6, 1e6, allow_nan=False),
            st.sampled_from(["a", "b", "c"]),
            st.integers(-1, 3),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_any_small_table_gives_consistent_profiles(rows):
    frame = pd.DataFrame({"v": [r[0] for r in rows], "c": [r[1] for r in rows]})
    labels = np.array([r[2] for r in rows])
    profiles = profile_segments(frame, labels)
    assert profiles.sizes["size"].sum() == len(rows)
    assert profiles.sizes["share"].sum() == pytest.approx(1.0)
    means = frame["v"].groupby(labels).mean()
    for row in profiles.numeric.itertuples(index=False):
        label = -1 if row.segment == "noise" else int(row.segment)
        assert row.mean == pytest.approx(means[label], rel=1e-9, abs=1e-6)
    assert set(profiles.descriptions) == set(profiles.sizes.index)
    shares = profiles.categorical.groupby("segment")["share"].sum()
    assert (shares <= 1 + 1e-9).all()
