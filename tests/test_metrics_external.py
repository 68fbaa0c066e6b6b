"""External indices: equal to scikit-learn's, invariances, noise rule, degenerate input."""

from __future__ import annotations

import numpy as np
import pytest
import sklearn.metrics as skm
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from clusterlab import metrics as cm

# (ours, scikit-learn's) for every index scikit-learn has.
PAIRS = [
    (cm.adjusted_rand_score, skm.adjusted_rand_score),
    (cm.rand_score, skm.rand_score),
    (cm.adjusted_mutual_info_score, skm.adjusted_mutual_info_score),
    (cm.normalized_mutual_info_score, skm.normalized_mutual_info_score),
    (cm.mutual_info_score, skm.mutual_info_score),
    (cm.homogeneity_score, skm.homogeneity_score),
    (cm.completeness_score, skm.completeness_score),
    (cm.v_measure_score, skm.v_measure_score),
    (cm.fowlkes_mallows_score, skm.fowlkes_mallows_score),
]
IDS = [ours.__name__ for ours, _ in PAIRS]


def labelings(max_size: int = 60, max_label: int = 8):
    """Pairs of random labelings (with -1 among the labels) of the same length."""
    return st.integers(1, max_size).flatmap(
        lambda n: st.tuples(
            arrays(np.int64, n, elements=st.integers(-1, max_label)),
            arrays(np.int64, n, elements=st.integers(-1, max_label)),
        )
    )


@pytest.mark.parametrize(("ours", "ref"), PAIRS, ids=IDS)
@settings(max_examples=60, deadline=None)
@given(pair=labelings())
def test_equal_to_sklearn_on_random_labelings(ours, ref, pair):
    true, pred = pair
    assert ours(true, pred) == pytest.approx(ref(true, pred), abs=1e-10, rel=1e-10)


@settings(max_examples=60, deadline=None)
@given(pair=labelings())
def test_matrices_equal_to_sklearn(pair):
    true, pred = pair
    np.testing.assert_array_equal(
        cm.pair_confusion_matrix(true, pred), skm.cluster.pair_confusion_matrix(true, pred)
    )
    np.testing.assert_array_equal(
        cm.contingency_matrix(true, pred), skm.cluster.contingency_matrix(true, pred)
    )
    np.testing.assert_array_equal(
        cm.contingency_matrix(true, pred, sparse=True).toarray(),
        skm.cluster.contingency_matrix(true, pred, sparse=True).toarray(),
    )


@pytest.mark.parametrize("average_method", ["min", "geometric", "arithmetic", "max"])
def test_average_methods_equal_to_sklearn(average_method, rng):
    true, pred = rng.integers(0, 5, 400), rng.integers(0, 7, 400)
    for ours, ref in [
        (cm.adjusted_mutual_info_score, skm.adjusted_mutual_info_score),
        (cm.normalized_mutual_info_score, skm.normalized_mutual_info_score),
    ]:
        assert ours(true, pred, average_method=average_method) == pytest.approx(
            ref(true, pred, average_method=average_method), abs=1e-10
        )


def test_larger_labelings_and_string_labels_equal_to_sklearn(rng):
    true = rng.integers(0, 30, 20_000)
    pred = np.where(rng.random(20_000) < 0.7, true, rng.integers(0, 25, 20_000))
    for ours, ref in PAIRS:
        assert ours(true, pred) == pytest.approx(ref(true, pred), abs=1e-10, rel=1e-10)
    names = np.array(["a", "b", "c"])[true % 3]
    assert cm.adjusted_rand_score(names, pred) == pytest.approx(
        skm.adjusted_rand_score(names, pred), abs=1e-12
    )


@pytest.mark.parametrize(("ours", "_"), PAIRS, ids=IDS)
def test_invariant_to_renaming_labels(ours, _, rng):
    true, pred = rng.integers(0, 4, 200), rng.integers(0, 6, 200)
    renamed = (rng.permutation(6) * 10 + 3)[pred]
    assert ours(true, renamed) == pytest.approx(ours(true, pred), abs=1e-12)


def test_invariant_to_permuting_points(rng):
    true, pred = rng.integers(0, 4, 200), rng.integers(0, 6, 200)
    order = rng.permutation(200)
    for ours, _ in PAIRS:
        assert ours(true[order], pred[order]) == pytest.approx(ours(true, pred), abs=1e-12)
    assert cm.normalized_clustering_accuracy(true[order], pred[order]) == pytest.approx(
        cm.normalized_clustering_accuracy(true, pred)
    )


def test_perfect_and_independent_labelings(rng):
    true = rng.integers(0, 5, 5000)
    same = (true + 2) % 5
    perfect = (
        cm.adjusted_rand_score,
        cm.adjusted_mutual_info_score,
        cm.v_measure_score,
        cm.normalized_clustering_accuracy,
        cm.purity_score,
        cm.fowlkes_mallows_score,
    )
    for fn in perfect:
        assert fn(true, same) == pytest.approx(1.0)
    independent = rng.integers(0, 5, 5000)
    assert abs(cm.adjusted_rand_score(true, independent)) < 0.01
    assert abs(cm.adjusted_mutual_info_score(true, independent)) < 0.01
    assert abs(cm.normalized_clustering_accuracy(true, independent)) < 0.05


def test_purity_and_nca_hand_computed():
    true = [0, 0, 0, 1, 1, 1]
    pred = [0, 0, 1, 1, 1, 1]
    # Cluster 0 is all class 0 (2), cluster 1 has 3 of class 1: (2 + 3) / 6.
    assert cm.purity_score(true, pred) == pytest.approx(5 / 6)
    # Recalls of the best matching: class 0 -> cluster 0 (2/3), class 1 -> cluster 1 (3/3).
    assert cm.normalized_clustering_accuracy(true, pred) == pytest.approx((2 / 3 + 1 - 1) / 1)
    # Asymmetric: swapping the arguments changes the value.
    assert cm.normalized_clustering_accuracy(pred, true) == pytest.approx((1 + 3 / 4 - 1) / 1)
    # Fewer clusters than classes: the unmatched class has recall 0.
    assert cm.normalized_clustering_accuracy([0, 1, 2], [0, 0, 0]) == pytest.approx(0.0)


def test_nca_needs_two_reference_classes():
    with pytest.raises(ValueError, match="at least 2 reference classes"):
        cm.normalized_clustering_accuracy([1, 1, 1], [0, 1, 2])


def test_noise_rules():
    true = np.array([0, 0, 0, 1, 1, 1, 2, 2])
    pred = np.array([0, 0, 0, 1, 1, 1, -1, -1])
    # "cluster": -1 is a label like any other, as in scikit-learn.
    assert cm.adjusted_rand_score(true, pred) == skm.adjusted_rand_score(true, pred) == 1.0
    # "ignore": the two noise points are dropped; the rest match perfectly.
    assert cm.adjusted_rand_score(true, pred, noise="ignore") == 1.0
    assert cm.adjusted_rand_score(true[:6], pred[:6]) == 1.0
    # "singletons": each noise point alone, so the pair (6, 7) is split: no longer perfect.
    single = cm.adjusted_rand_score(true, pred, noise="singletons")
    assert single == pytest.approx(skm.adjusted_rand_score(true, [0, 0, 0, 1, 1, 1, 7, 8]))
    assert single < 1.0
    # Noise in the reference is dropped by "ignore" too (the benchmark protocol).
    ref = np.array([0, 0, -1, 1, 1, -1])
    assert cm.adjusted_mutual_info_score(ref, [5, 5, 9, 6, 6, 5], noise="ignore") == 1.0


def test_all_noise_and_single_cluster():
    noise = np.full(5, -1)
    with pytest.raises(ValueError, match="no point left to score"):
        cm.adjusted_rand_score(noise, [0, 0, 1, 1, 1], noise="ignore")
    # One group on both sides is a perfect match, as in scikit-learn.
    assert cm.adjusted_rand_score(noise, noise) == 1.0
    assert cm.normalized_mutual_info_score([0, 0, 0], [1, 1, 1]) == 1.0
    assert cm.adjusted_mutual_info_score([0, 0, 0], [1, 1, 2]) == 0.0
    # All singletons when everything is noise under "singletons": ARI is 1 against singletons.
    assert cm.adjusted_rand_score(noise, np.arange(5), noise="singletons") == 1.0


def test_input_errors():
    with pytest.raises(ValueError, match="same length"):
        cm.adjusted_rand_score([0, 1], [0, 1, 1])
    with pytest.raises(ValueError, match="labels_true must be 1-D"):
        cm.adjusted_rand_score([[0, 1]], [0, 1])
    with pytest.raises(ValueError, match="labels_pred must hold at least one label"):
        cm.adjusted_rand_score([0], [])
    with pytest.raises(ValueError, match="noise must be one of"):
        cm.adjusted_rand_score([0, 1], [0, 1], noise="drop")
    with pytest.raises(ValueError, match="average_method must be one of"):
        cm.normalized_mutual_info_score([0, 1], [0, 1], average_method="mean")
    with pytest.raises(TypeError, match="labels_true must be a 1-D array-like"):
        cm.adjusted_rand_score("abc", [0, 1, 2])
    with pytest.raises(ValueError, match="eps can only be used with sparse=False"):
        cm.contingency_matrix([0, 1], [0, 1], eps=1.0, sparse=True)


def test_inputs_not_modified():
    true = np.array([0, -1, 1, 1])
    pred = np.array([-1, 0, 1, 1])
    cm.adjusted_rand_score(true, pred, noise="singletons")
    cm.adjusted_rand_score(true, pred, noise="ignore")
    np.testing.assert_array_equal(true, [0, -1, 1, 1])
    np.testing.assert_array_equal(pred, [-1, 0, 1, 1])
