"""Every plot kind for every model it applies to renders with Agg and shows what it should."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection, PolyCollection
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from sklearn import cluster, mixture

from clusterlab import plots
from clusterlab.cluster.kmeans import KMeans
from clusterlab.plots import PLOT_KINDS, plot_model
from clusterlab.plots.trees import _linkage_matrix

N = 240


@pytest.fixture(scope="module")
def X():
    from sklearn.datasets import make_blobs

    X, _ = make_blobs(n_samples=N - 6, centers=3, n_features=4, cluster_std=0.8, random_state=0)
    far = np.random.default_rng(0).uniform(-30, 30, size=(6, 4))  # noise for density models
    return np.vstack([X, far])


class _WithTree:
    """HDBSCAN fitted by scikit-learn, exposing the condensed tree as HDBSCAN models do."""

    def __init__(self, X):
        tree_module = pytest.importorskip(
            "sklearn.cluster._hdbscan._tree", reason="needs scikit-learn's HDBSCAN internals"
        )
        model = cluster.HDBSCAN(min_cluster_size=15, copy=True).fit(X)
        self.labels_ = model.labels_
        self.cluster_selection_method = "eom"
        self.condensed_tree_ = tree_module._condense_tree(model._single_linkage_tree_, 15)


@pytest.fixture(scope="module")
def models(X):
    fitted = {
        "kmeans": cluster.KMeans(3, n_init=3, random_state=0).fit(X),
        "ours_kmeans": KMeans(3, n_init=3, random_state=0).fit(X),
        "gmm": mixture.GaussianMixture(3, random_state=0).fit(X),
        "dbscan": cluster.DBSCAN(eps=1.5, min_samples=5).fit(X),
        "optics": cluster.OPTICS(min_samples=10).fit(X),
        "hdbscan": cluster.HDBSCAN(min_cluster_size=15, copy=True).fit(X),
        "agglomerative": cluster.AgglomerativeClustering(3, compute_distances=True).fit(X),
        "hdbscan_tree": _WithTree(X),
    }
    fitted["gmm"].labels_ = fitted["gmm"].predict(X)
    return fitted


def _points(ax) -> int:
    return sum(
        len(c.get_offsets())
        for c in ax.collections
        if isinstance(c, PathCollection) and c.get_label() != "centres"
    )


def _legend_texts(ax) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


def _segments(labels) -> int:
    return len(np.unique(labels))


@pytest.mark.parametrize(
    "name", ["kmeans", "ours_kmeans", "gmm", "dbscan", "optics", "hdbscan", "agglomerative"]
)
def test_cluster_scatter(X, models, name):
    model = models[name]
    fig = plot_model(model, X, plot="cluster")
    ax = fig.axes[0]
    assert _points(ax) == N
    texts = _legend_texts(ax)
    assert len(texts) == _segments(model.labels_) + 1  # + centres
    assert texts[-1] == "centres"
    assert ax.get_title() == "Segments (PCA)"
    if np.any(model.labels_ == -1):
        noise = next(c for c in ax.collections if c.get_label().startswith("noise"))
        assert to_hex(noise.get_facecolor()[0]) == plots.NOISE_COLOUR
        assert texts[0] == f"noise ({np.sum(model.labels_ == -1)})"


def test_cluster_centres_are_the_models(X, models):
    from sklearn.decomposition import PCA

    model = models["kmeans"]
    fig = plot_model(model, X, plot="cluster")
    centres = next(c for c in fig.axes[0].collections if c.get_label() == "centres")
    expected = PCA(2, random_state=0).fit(X).transform(model.cluster_centers_)
    np.testing.assert_allclose(centres.get_offsets(), expected, atol=1e-8)


def test_cluster_means_for_models_without_centres(X, models):
    from sklearn.decomposition import PCA

    model = models["dbscan"]
    fig = plot_model(model, X, plot="cluster")
    centres = next(c for c in fig.axes[0].collections if c.get_label() == "centres")
    means = [X[model.labels_ == c].mean(axis=0) for c in range(model.labels_.max() + 1)]
    np.testing.assert_allclose(
        centres.get_offsets(), PCA(2, random_state=0).fit(X).transform(np.array(means)), atol=1e-8
    )


def test_two_features_plot_the_features_themselves():
    X = pd.DataFrame({"income": [1.0, 2, 3, 10, 11, 12], "age": [20.0, 21, 22, 50, 51, 52]})
    fig = plots.plot_clusters(X, [0, 0, 0, 1, 1, 1])
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("income", "age", "Segments")


def test_cluster_draws_into_given_axes(X, models):
    fig = Figure()
    ax = fig.add_subplot(1, 2, 2)
    assert plots.plot_clusters(X, models["kmeans"].labels_, ax=ax) is fig
    assert _points(ax) == N


@pytest.mark.parametrize("name", ["kmeans", "dbscan"])
def test_cluster3d(X, models, name):
    fig = plot_model(models[name], X, plot="cluster3d")
    ax = fig.axes[0]
    assert ax.name == "3d"
    assert _points(ax) == N
    assert len(_legend_texts(ax)) == _segments(models[name].labels_) + 1
    with pytest.raises(ValueError, match="ax must be a 3-D axes"):
        plots.plot_clusters_3d(X, models[name].labels_, ax=Figure().add_subplot())


def test_tsne_samples_large_inputs(X, models):
    fig = plot_model(models["kmeans"], X, plot="tsne", max_samples=100, max_iter=250)
    ax = fig.axes[0]
    assert _points(ax) == 100
    assert ax.get_title() == f"t-SNE (sample of 100 of {N} rows)"


def test_umap_needs_umap_learn(X, models):
    try:
        import umap  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="pip install umap-learn"):
            plot_model(models["kmeans"], X, plot="umap")
    else:
        assert _points(plot_model(models["kmeans"], X, plot="umap").axes[0]) == N


@pytest.mark.parametrize("name", ["kmeans", "dbscan", "agglomerative"])
def test_silhouette_bars_per_cluster(X, models, name):
    labels = models[name].labels_
    fig = plot_model(models[name], X, plot="silhouette")
    ax = fig.axes[0]
    bars = [c for c in ax.collections if isinstance(c, PolyCollection)]
    members = labels != -1
    assert len(bars) == _segments(labels[members])
    from sklearn.metrics import silhouette_score  # the reference

    expected = silhouette_score(X[members], labels[members])
    assert ax.get_title() == f"Silhouette (mean {expected:.2f})"


def test_silhouette_sample_and_errors(X, models):
    fig = plots.plot_silhouette(X, models["kmeans"].labels_, max_samples=50)
    assert "sample of 50" in fig.axes[0].get_title()
    with pytest.raises(ValueError, match="plot='silhouette' needs at least 2 clusters"):
        plots.plot_silhouette(X, np.zeros(N, dtype=int))


@pytest.mark.parametrize("name", ["kmeans", "gmm", "dbscan", "agglomerative"])
def test_distance_map(X, models, name):
    labels = models[name].labels_
    fig = plot_model(models[name], X, plot="distance")
    bubbles = fig.axes[0].collections[0]
    k = _segments(labels[labels != -1])
    assert len(bubbles.get_offsets()) == k
    counts = np.bincount(labels[labels != -1])
    np.testing.assert_allclose(bubbles.get_sizes(), 3000 * counts / counts.max())


def test_distance_map_preserves_centre_distances(X, models):
    model = models["kmeans"]
    fig = plot_model(model, X, plot="distance")
    coords = fig.axes[0].collections[0].get_offsets()
    # three centres span a plane: classical MDS keeps their distances exactly
    d_map = np.linalg.norm(coords[:, None] - coords[None], axis=-1)
    c = model.cluster_centers_
    np.testing.assert_allclose(d_map, np.linalg.norm(c[:, None] - c[None], axis=-1), atol=1e-8)
    with pytest.raises(ValueError, match="plot='distance' needs at least 2 clusters"):
        plots.plot_distance(X, np.zeros(N, dtype=int))


@pytest.mark.parametrize("name", ["kmeans", "dbscan", "hdbscan"])
def test_distribution(X, models, name):
    labels = models[name].labels_
    ax = plot_model(models[name], X, plot="distribution").axes[0]
    heights = [p.get_height() for p in ax.patches]
    order = [*range(labels.max() + 1), *([-1] if np.any(labels == -1) else [])]
    assert heights == [np.sum(labels == s) for s in order]
    if -1 in order:
        assert to_hex(ax.patches[-1].get_facecolor()) == plots.NOISE_COLOUR
        assert ax.get_xticklabels()[-1].get_text() == "noise"


def test_profile_heatmap_shows_standardised_means(X, models):
    from clusterlab.insight import profile_segments

    data = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    labels = models["dbscan"].labels_
    fig = plot_model(models["dbscan"], X, plot="profile", data=data)
    image = fig.axes[0].images[0].get_array()
    expected = profile_segments(data, labels).numeric.pivot(
        index="segment", columns="feature", values="std_diff"
    )
    expected = expected.reindex([*map(str, range(labels.max() + 1)), "noise"])
    np.testing.assert_allclose(image, expected.to_numpy())


def test_feature_panels(wholesale, X, models):
    labels = np.arange(len(wholesale)) % 3
    data = wholesale.assign(Region=wholesale["Region"].map({1: "Lisbon", 2: "Oporto", 3: "Other"}))
    fig = plots.plot_feature(data, labels, max_features=4)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 4
    fig = plots.plot_feature(data, labels, features=["Fresh", "Region"])
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert titles == ["Fresh", "Region"]
    # one box per segment on a numeric panel
    assert len(fig.axes[0].patches) == 3
    with pytest.raises(ValueError, match=r"features \['nope'\] are not columns"):
        plots.plot_feature(data, labels, features=["nope"])
    fig = plot_model(models["dbscan"], X, plot="feature", feature_names=["a", "b", "c", "d"])
    assert {ax.get_title() for ax in fig.axes if ax.get_visible()} == {"a", "b", "c", "d"}


def test_dendrogram(X, models):
    from scipy.cluster.hierarchy import linkage

    ax = plot_model(models["agglomerative"], X, plot="dendrogram", truncate=12).axes[0]
    assert ax.get_title() == "Dendrogram (cut at 3 clusters)"
    assert len(ax.get_xticklabels()) == 12
    assert _legend_texts(ax) == ["cut: 3 clusters"]
    ax = plots.plot_dendrogram(linkage(X[:30], "average"), n_clusters=4).axes[0]
    assert ax.get_title() == "Dendrogram (cut at 4 clusters)"
    with pytest.raises(ValueError, match="refit it with compute_distances=True"):
        plot_model(cluster.AgglomerativeClustering(3).fit(X), X, plot="dendrogram")


def test_dendrogram_matches_scipy_ward(X):
    from scipy.cluster.hierarchy import linkage

    model = cluster.AgglomerativeClustering(2, linkage="ward", compute_distances=True).fit(X)
    ours = _linkage_matrix(model)
    np.testing.assert_allclose(np.sort(ours[:, 2]), np.sort(linkage(X, "ward")[:, 2]))
    assert ours[-1, 3] == N


def test_reachability(X, models):
    model = models["optics"]
    ax = plot_model(model, X, plot="reachability").axes[0]
    assert len(_legend_texts(ax)) == _segments(model.labels_)
    assert ax.get_title() == "Reachability (OPTICS)"
    filled = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(filled) == _segments(model.labels_)


def test_condensed_tree_selects_the_models_clusters(X, models):
    model = models["hdbscan_tree"]
    ax = plot_model(model, X, plot="condensed_tree").axes[0]
    k = _segments(model.labels_[model.labels_ != -1])
    assert ax.get_title() == f"Condensed tree ({k} selected clusters)"
    assert _legend_texts(ax) == [f"segment {s}" for s in range(k)]


@pytest.mark.parametrize(
    ("kind", "name", "message"),
    [
        ("dendrogram", "kmeans", "needs a hierarchical model: AgglomerativeClustering"),
        ("dendrogram", "dbscan", "needs a hierarchical model"),
        ("reachability", "kmeans", r"needs a model with reachability_ and ordering_ \(OPTICS\)"),
        ("reachability", "hdbscan", r"\(OPTICS\); HDBSCAN has no reachability_"),
        ("condensed_tree", "kmeans", r"needs a model with condensed_tree_ \(HDBSCAN\)"),
        ("condensed_tree", "optics", "OPTICS has none"),
        ("elbow", "dbscan", "needs an n_clusters"),
    ],
)
def test_meaningless_plots_say_what_they_support(X, models, kind, name, message):
    with pytest.raises(ValueError, match=message):
        plot_model(models[name], X, plot=kind)


@pytest.mark.parametrize("name", ["kmeans", "gmm", "agglomerative"])
def test_elbow(X, models, name):
    ax = plot_model(models[name], X, plot="elbow", k_range=range(2, 6)).axes[0]
    line = ax.lines[0]
    assert list(line.get_xdata()) == [2, 3, 4, 5]
    assert np.all(np.diff(line.get_ydata()) < 0)
    if name != "gmm":
        assert ax.get_title() == "Elbow (chosen k = 3)"
        assert _legend_texts(ax)[-1] == "chosen k = 3"


def test_elbow_on_a_sample(X, models):
    ax = plot_model(models["kmeans"], X, plot="elbow", k_range=[2, 3], max_samples=100).axes[0]
    assert ax.get_title() == f"Elbow on a sample of 100 of {N} rows (chosen k = 3)"


def test_k_selection_and_stability():
    scores = pd.DataFrame(
        {"silhouette": [0.4, 0.6, 0.5], "davies_bouldin": [1.0, 0.6, 0.8], "bic": [5, 3, 4]},
        index=[2, 3, 4],
    )
    ax = plot_model(None, None, plot="k_selection", scores=scores, chosen_k=3).axes[0]
    texts = _legend_texts(ax)
    assert texts == [
        "silhouette ↑ (best k = 3)",
        "davies_bouldin ↓ (best k = 3)",
        "bic ↓ (best k = 3)",
        "chosen k = 3",
    ]
    np.testing.assert_allclose(ax.lines[1].get_ydata(), [0, 1, 0.5])
    per_k = pd.DataFrame({"mean": [0.9, 0.8], "std": [0.1, 0.1]}, index=[2, 3])
    ax = plot_model(None, None, plot="stability", scores=per_k).axes[0]
    assert ax.get_title() == "Stability against k"
    per_segment = pd.Series([0.9, 0.5, 0.3], index=["0", "1", "noise"])
    ax = plots.plot_stability(per_segment).axes[0]
    assert [p.get_height() for p in ax.patches] == [0.9, 0.5, 0.3]
    assert to_hex(ax.patches[-1].get_facecolor()) == plots.NOISE_COLOUR


APPLICABLE = {
    "kmeans": set(PLOT_KINDS) - {"dendrogram", "reachability", "condensed_tree"},
    "ours_kmeans": set(PLOT_KINDS) - {"dendrogram", "reachability", "condensed_tree"},
    "dbscan": set(PLOT_KINDS) - {"dendrogram", "reachability", "condensed_tree", "elbow"},
    "optics": set(PLOT_KINDS) - {"dendrogram", "condensed_tree", "elbow"},
    "agglomerative": set(PLOT_KINDS) - {"reachability", "condensed_tree"},
    "hdbscan_tree": set(PLOT_KINDS) - {"dendrogram", "reachability", "elbow"},
}


@pytest.mark.parametrize("name", sorted(APPLICABLE))
def test_every_plot_for_every_model(X, models, name, tmp_path):
    """Each applicable kind returns a Figure; the others raise a ValueError that explains."""
    scores = pd.DataFrame({"silhouette": [0.5, 0.6], "mean": [0.8, 0.9]}, index=[2, 3])
    fast = {"tsne": {"max_samples": 60, "max_iter": 250}, "elbow": {"k_range": [2, 3]}}
    for kind in PLOT_KINDS:
        if kind == "umap":
            continue  # needs an optional package: test_umap_needs_umap_learn
        kwargs = dict(fast.get(kind, {}))
        if kind in ("k_selection", "stability"):
            kwargs["scores"] = scores
        if kind in APPLICABLE[name]:
            fig = plot_model(models[name], X, plot=kind, **kwargs)
            assert isinstance(fig, Figure), kind
            assert any(ax.get_title() or fig.get_suptitle() for ax in fig.axes), kind
        else:
            with pytest.raises(ValueError, match="needs"):
                plot_model(models[name], X, plot=kind, **kwargs)


@pytest.mark.parametrize(
    ("suffix", "magic"), [(".png", b"\x89PNG"), (".svg", b"<?xml"), (".pdf", b"%PDF")]
)
def test_save_by_extension(X, models, tmp_path, suffix, magic):
    path = tmp_path / f"plot{suffix.upper() if suffix == '.png' else suffix}"
    plot_model(models["kmeans"], X, plot="cluster", save=path)
    assert path.read_bytes().startswith(magic)


def test_save_rejects_other_extensions(X, models, tmp_path):
    with pytest.raises(ValueError, match=r"save must be a file name ending in .png, .svg or .pdf"):
        plot_model(models["kmeans"], X, plot="cluster", save=tmp_path / "plot.html")
    assert not (tmp_path / "plot.html").exists()


def test_plot_names_suggest_the_closest():
    with pytest.raises(ValueError, match="unknown plot 'silhouete'; did you mean 'silhouette'"):
        plot_model(None, np.zeros((3, 2)), plot="silhouete")
    with pytest.raises(ValueError, match="unknown plot 'cake'; Plots are: cluster, cluster3d"):
        plot_model(None, np.zeros((3, 2)), plot="cake")
    with pytest.raises(TypeError, match="plot must be a str"):
        plot_model(None, np.zeros((3, 2)), plot=3)
    assert plots.check_plot_name("Condensed-Tree") == "condensed_tree"


def test_labels_checked(X, models):
    with pytest.raises(ValueError, match="labels must have one entry per row"):
        plot_model(models["kmeans"], X, labels=[0, 1], plot="cluster")


def test_importing_clusterlab_plots_does_not_import_matplotlib():
    code = "import sys, clusterlab.plots; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_condensed_tree_uses_the_trees_own_selection(X, models):
    """clusterlab's HDBSCAN carries a CondensedTree object with to_numpy() and its selection."""
    raw = models["hdbscan_tree"].condensed_tree_
    root = int(raw["parent"].min())
    first_split = int(raw["child"][(raw["parent"] == root) & (raw["cluster_size"] > 1)][0])

    class Tree:
        selected_clusters = np.array([first_split])

        def to_numpy(self):
            out = np.empty(
                len(raw),
                dtype=[
                    ("parent", np.int64),
                    ("child", np.int64),
                    ("lambda_val", np.float64),
                    ("child_size", np.int64),
                ],
            )
            out["parent"], out["child"] = raw["parent"], raw["child"]
            out["lambda_val"], out["child_size"] = raw["value"], raw["cluster_size"]
            return out

    class Model:
        labels_ = models["hdbscan_tree"].labels_
        condensed_tree_ = Tree()

    ax = plots.plot_condensed_tree(Model()).axes[0]
    assert ax.get_title() == "Condensed tree (1 selected clusters)"
    assert len(_legend_texts(ax)) == 1


@dataclass
class _ChooseK:
    """Shaped like clusterlab.selection.ChooseKResult."""

    best_k: int
    table: pd.DataFrame
    votes: dict


@dataclass
class _Stability:
    """Shaped like clusterlab.selection.StabilityResult."""

    jaccard: np.ndarray
    mean_ari: float
    threshold: float = 0.75

    @property
    def cluster_stability(self):
        return np.nanmean(self.jaccard, axis=0)


@pytest.fixture
def choose_k_result():
    table = pd.DataFrame(
        {"inertia": [90.0, 40.0, 35.0], "silhouette": [0.5, 0.7, 0.4], "gap_se": [0.1] * 3,
         "votes": [0, 2, 0]},
        index=pd.Index([2, 3, 4], name="k"),
    )  # fmt: skip
    return _ChooseK(best_k=3, table=table, votes={"elbow": 3, "silhouette": 3})


def test_selection_results_are_plotted(X, models, choose_k_result):
    ax = plot_model(models["kmeans"], X, plot="k_selection", selection=choose_k_result).axes[0]
    assert _legend_texts(ax) == [
        "inertia ↓ (best k = 3)", "silhouette ↑ (best k = 3)", "chosen k = 3",
    ]  # fmt: skip
    ax = plot_model(models["kmeans"], X, plot="elbow", selection=choose_k_result).axes[0]
    assert list(ax.lines[0].get_ydata()) == [90.0, 40.0, 35.0]
    assert ax.get_title() == "Elbow (chosen k = 3)"
    result = _Stability(jaccard=np.array([[0.9, 0.5], [0.7, 0.7]]), mean_ari=0.8)
    ax = plot_model(models["kmeans"], X, plot="stability", stability=result).axes[0]
    assert [p.get_height() for p in ax.patches] == pytest.approx([0.8, 0.6])
    assert ax.get_title() == "Stability of each segment (mean ARI 0.80)"


def test_selection_computed_by_clusterlab_selection(X, models, monkeypatch, choose_k_result):

    from clusterlab import selection

    calls = []

    def choose_k(X_, model, k_range, random_state):
        calls.append(("choose_k", len(X_), list(k_range), random_state))
        return choose_k_result

    def stability(X_, model, random_state):
        calls.append(("stability", len(X_), random_state))
        return _Stability(jaccard=np.ones((2, 3)), mean_ari=1.0)

    monkeypatch.setattr(selection, "choose_k", choose_k)
    monkeypatch.setattr(selection, "stability", stability)
    plot_model(models["kmeans"], X, plot="k_selection", k_range=range(2, 5))
    plot_model(models["kmeans"], X, plot="stability")
    assert calls == [("choose_k", N, [2, 3, 4], 0), ("stability", N, 0)]
