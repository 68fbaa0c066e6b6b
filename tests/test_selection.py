"""choose_k and stability: recommendations on clear data, the result objects, errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from clusterlab.selection import ChooseKResult, StabilityResult, choose_k, stability


@pytest.fixture(scope="module")
def four_blobs():
    X, y = make_blobs(n_samples=400, centers=4, cluster_std=0.8, random_state=2)
    return X, y


@pytest.fixture(scope="module")
def kmeans_result(four_blobs):
    X, _ = four_blobs
    return choose_k(X, k_range=range(2, 8), random_state=0, n_refs=5)


def test_choose_k_finds_four_blobs(kmeans_result, four_blobs):
    _, y = four_blobs
    r = kmeans_result
    assert isinstance(r, ChooseKResult)
    assert r.best_k == 4
    assert list(r.table.index) == list(range(2, 8))
    assert {"inertia", "silhouette", "calinski_harabasz", "davies_bouldin", "gap", "gap_se"} <= set(
        r.table.columns
    )
    assert r.table["votes"].sum() == sum(v is not None for v in r.votes.values())
    # Two of the blobs are close: the silhouette and Davies-Bouldin merge them, the
    # Calinski-Harabasz index and the gap statistic do not, and the mean rank sides with them.
    assert r.votes["calinski_harabasz"] == r.votes["gap"] == 4
    assert r.table.loc[4, "votes"] >= 2
    assert r.reason.startswith("k = 4: chosen by")
    for name in ("silhouette", "Calinski-Harabasz", "Davies-Bouldin", "gap statistic"):
        assert name in r.reason
    from clusterlab.metrics import adjusted_rand_score

    assert adjusted_rand_score(y, r.labels_) > 0.95


def test_choose_k_table_values_are_the_metrics(kmeans_result, four_blobs):
    from clusterlab.metrics import calinski_harabasz_score, davies_bouldin_score

    X, _ = four_blobs
    r = kmeans_result
    assert r.table.loc[4, "calinski_harabasz"] == pytest.approx(
        calinski_harabasz_score(X, r.labels_)
    )
    assert r.table.loc[4, "davies_bouldin"] == pytest.approx(davies_bouldin_score(X, r.labels_))
    # Inertia falls with k; the Calinski-Harabasz index is largest at the chosen k.
    assert r.table["inertia"].is_monotonic_decreasing
    assert r.table["calinski_harabasz"].idxmax() == 4


def test_choose_k_is_reproducible(four_blobs, kmeans_result):
    X, _ = four_blobs
    again = choose_k(X, k_range=range(2, 8), random_state=0, n_refs=5)
    np.testing.assert_array_equal(again.table.to_numpy(), kmeans_result.table.to_numpy())


def test_choose_k_plot(kmeans_result):
    import matplotlib.pyplot as plt

    fig = kmeans_result.plot()
    assert len([ax for ax in fig.axes if ax.get_visible()]) == 5
    plt.close(fig)


@pytest.mark.parametrize("model", ["ward", "gmm", "spectral"])
def test_other_models(four_blobs, model):
    X, _ = four_blobs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = choose_k(X, model=model, k_range=range(2, 7), random_state=0, n_refs=3)
    assert r.best_k == 4
    if model == "gmm":
        assert "bic" in r.table.columns and r.votes["bic"] == 4
    if model == "spectral":
        assert r.votes["eigengap"] == 4


def test_agglomerative_tree_cuts_match_sklearn(four_blobs):
    from sklearn.cluster import AgglomerativeClustering

    from clusterlab.metrics import adjusted_rand_score

    X, _ = four_blobs
    r = choose_k(X, model=AgglomerativeClustering(linkage="average"), k_range=[3, 4, 5],
                 criteria=["silhouette"], random_state=0)  # fmt: skip
    ref = AgglomerativeClustering(n_clusters=r.best_k, linkage="average").fit_predict(X)
    assert adjusted_rand_score(ref, r.labels_) == pytest.approx(1.0)


def test_any_estimator_with_n_clusters(four_blobs):
    from sklearn.cluster import Birch

    X, _ = four_blobs
    r = choose_k(X, model=Birch(), k_range=range(2, 7), criteria=["calinski_harabasz"])
    assert r.best_k == 4 and r.votes == {"calinski_harabasz": 4}


def test_sampling_is_reported():
    X, _ = make_blobs(n_samples=1500, centers=3, random_state=0)
    r = choose_k(X, k_range=range(2, 6), criteria=["silhouette", "gap"], random_state=0,
                 sample_size=500, n_refs=3)  # fmt: skip
    assert "Silhouette on a random sample of 500 of 1,500 points" in r.reason
    assert "Gap statistic on a random sample of 1,000 of 1,500 points" in r.reason
    assert r.best_k == 3


def test_choose_k_errors(four_blobs):
    X, _ = four_blobs
    tiny = X[:5]
    with pytest.raises(
        ValueError, match=r"k_range must hold ints in \[2, n_samples - 1\] = \[2, 4\]"
    ):
        choose_k(tiny, k_range=range(2, 10))
    with pytest.raises(ValueError, match="at least 2 distinct values"):
        choose_k(X, k_range=[3])
    with pytest.raises(ValueError, match=r"k_range must hold ints in \[2"):
        choose_k(X, k_range=[1, 2, 3])
    with pytest.raises(TypeError, match="k_range must hold ints"):
        choose_k(X, k_range=[2.5, 3])
    with pytest.raises(ValueError, match="criteria must be a subset of"):
        choose_k(X, criteria=["silhouete"])
    with pytest.raises(ValueError, match="'bic' and 'aic' need model='gmm'"):
        choose_k(X, criteria=["bic"])
    with pytest.raises(ValueError, match="model must be 'kmeans'"):
        choose_k(X, model="dbscan")
    with pytest.raises(TypeError, match="n_clusters \\(or n_components\\) parameter"):
        from sklearn.cluster import DBSCAN

        choose_k(X, model=DBSCAN())
    with pytest.raises(ValueError, match="sample_size must be 'auto', None or an int >= 2"):
        choose_k(X, sample_size=1)


def test_kneedle_hand_computed():
    from clusterlab.selection import _kneedle

    # A curve with a clear corner at k = 3.
    knee, height = _kneedle([1, 2, 3, 4, 5, 6], [100, 50, 10, 8, 6, 5])
    assert knee == 3
    assert np.argmax(height) == 2


def test_gap_rule_hand_computed():
    from clusterlab.selection import _gap_vote

    gap = {2: 0.5, 3: 1.0, 4: 1.05, 5: 1.06}
    se = {2: 0.1, 3: 0.1, 4: 0.1, 5: 0.1}
    # 2: 0.5 < 1.0 - 0.1; 3: 1.0 >= 1.05 - 0.1 -> 3.
    assert _gap_vote([2, 3, 4], gap, se) == 3


def test_recommend_mean_rank_then_votes_then_smaller_k():
    from clusterlab.selection import _recommend

    ks = [2, 3, 4]
    ranks = {"a": {2: 3, 3: 1, 4: 2}, "b": {2: 1, 3: 2, 4: 3}, "c": {2: 3, 3: 1, 4: 2}}
    # Mean ranks 7/3, 4/3, 7/3: k = 3 although "b" voted for 2.
    assert _recommend(ks, {"a": 3, "b": 2, "c": 3}, ranks) == 3
    tied = {"a": {2: 1, 3: 2, 4: 3}, "b": {2: 2, 3: 1, 4: 3}}
    # 2 and 3 tie on mean rank 1.5: the k with more votes wins, then the smaller k.
    assert _recommend(ks, {"a": 3, "b": 3}, tied) == 3
    assert _recommend(ks, {"a": 2, "b": 3}, tied) == 2


@pytest.fixture(scope="module")
def stability_result(four_blobs):
    X, _ = four_blobs
    return stability(X, "kmeans", n_resamples=6, random_state=0, n_clusters=4)


def test_stability_on_clear_clusters(stability_result):
    r = stability_result
    assert isinstance(r, StabilityResult)
    assert r.mean_ari > 0.95
    assert r.pairwise_ari.shape == (15,)
    assert r.jaccard.shape == (6, 4)
    assert np.all(r.reappearance == 1.0)
    frame = r.to_pandas()
    assert list(frame.columns) == ["size", "mean_jaccard", "reappearance", "verdict"]
    assert frame["size"].sum() == 400
    text = r.summary()
    assert "cluster 0 reappears in 100% of resamples" in text
    assert "Jaccard similarity >= 0.75" in text


def test_stability_flags_an_unstable_split():
    from clusterlab.cluster.kmeans import KMeans

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 2))  # one blob: any split into 4 is arbitrary
    r = stability(X, KMeans(n_clusters=4), n_resamples=8, random_state=1)
    assert r.mean_ari < 0.9
    assert r.reappearance.min() < 1.0


def test_best_jaccard_hand_computed():
    from clusterlab.selection import _best_jaccard

    reference = np.array([0, 0, 0, 1, 1, 1])
    labels = np.array([5, 5, 7, 7, 7, -1])
    # Cluster 0 vs label 5: |{0,1}| / |{0,1,2}| = 2/3; cluster 1 vs label 7: 2 / 4.
    np.testing.assert_allclose(_best_jaccard(reference, labels, 2), [2 / 3, 0.5])


def test_stability_errors(four_blobs):
    X, _ = four_blobs
    with pytest.raises(ValueError, match="n_clusters must be an int >= 1 when model='kmeans'"):
        stability(X, "kmeans")
    with pytest.raises(ValueError, match=r"fraction must be a number in \(0, 1\)"):
        stability(X, "kmeans", fraction=1.5, n_clusters=3)
    with pytest.raises(ValueError, match="n_resamples must be an int >= 2"):
        stability(X, "kmeans", n_resamples=1, n_clusters=3)
    with pytest.raises(TypeError, match="model must be 'kmeans' or an estimator"):
        stability(X, 3, n_clusters=3)
