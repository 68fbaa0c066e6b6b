"""PLOT_KINDS, the one drawing convention, PyCaret's plot_model options and the 'pipeline' kind.

tests/test_plots.py checks what each kind shows; this file checks the package's contracts: every
kind draws for every model family where it means something (or says why not), no kind touches
pyplot's global state, and plot_model's feature= / label= / scale= / display_format= / save=
behave as PyCaret documents them.
"""

from __future__ import annotations

import importlib.util
import inspect
import sys
import types

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure
from matplotlib.text import Annotation
from sklearn import cluster, mixture
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from clusterlab import plots
from clusterlab.cluster.dbscan import DBSCAN
from clusterlab.cluster.hdbscan import HDBSCAN
from clusterlab.cluster.kmeans import KMeans
from clusterlab.cluster.optics import OPTICS
from clusterlab.plots import PLOT_KINDS, _condensed, plot_model
from clusterlab.plots._inputs import NEEDS

N = 150


@pytest.fixture(scope="module")
def X():
    from sklearn.datasets import make_blobs

    X, _ = make_blobs(n_samples=N - 5, centers=3, n_features=3, cluster_std=0.7, random_state=1)
    return np.vstack([X, np.random.default_rng(1).uniform(-25, 25, size=(5, 3))])


@pytest.fixture(scope="module")
def data(X):
    """The 'original data' of the rows: the features in other units and a categorical column."""
    frame = pd.DataFrame(X * 10 + 50, columns=["age", "income", "visits"])
    frame["region"] = np.where(X[:, 0] > X[:, 0].mean(), "north", "south")
    return frame


@pytest.fixture(scope="module")
def families(X):
    """One fitted model per family: centroid, mixture, density (three kinds), hierarchy."""
    gmm = mixture.GaussianMixture(3, random_state=0).fit(X)
    gmm.labels_ = gmm.predict(X)
    return {
        "kmeans": KMeans(3, n_init=2, random_state=0).fit(X),
        "gmm": gmm,
        "dbscan": DBSCAN(eps=1.5, min_samples=5).fit(X),
        "optics": OPTICS(min_samples=10).fit(X),
        "hdbscan": HDBSCAN(min_cluster_size=15).fit(X),
        "agglomerative": cluster.AgglomerativeClustering(3, compute_distances=True).fit(X),
    }


#: Kinds that mean nothing for a family: (family, kind) -> what the error says.
MEANINGLESS = {
    "kmeans": {"dendrogram", "reachability", "condensed_tree"},
    "gmm": {"dendrogram", "reachability", "condensed_tree"},
    "dbscan": {"dendrogram", "reachability", "condensed_tree", "elbow"},
    "optics": {"dendrogram", "condensed_tree", "elbow"},
    "hdbscan": {"reachability", "elbow"},
    "agglomerative": {"reachability", "condensed_tree"},
}

FAST = {
    "tsne": {"max_samples": 60, "max_iter": 250},
    "umap": {"max_samples": 60},
    "elbow": {"k_range": [2, 3]},
    "k_selection": {"scores": pd.DataFrame({"silhouette": [0.5, 0.6]}, index=[2, 3])},
    "stability": {"scores": pd.Series([0.9, 0.4], index=["0", "1"])},
}


# --------------------------------------------------------------------------------------------
# the registry


def test_every_kind_is_one_complete_entry():
    public = {name for name in plots.__all__ if name.startswith("plot_") and name != "plot_model"}
    assert {kind.draw.__name__ for kind in PLOT_KINDS.values()} == public
    assert len({kind.display_name for kind in PLOT_KINDS.values()}) == len(PLOT_KINDS)
    for name, kind in PLOT_KINDS.items():
        assert kind.name == name
        assert set(kind.needs) <= set(NEEDS), name
        signature = inspect.signature(kind.draw)
        for parameter in ("ax", "save", "title"):
            assert signature.parameters[parameter].kind is inspect.Parameter.KEYWORD_ONLY, name
            assert signature.parameters[parameter].default is None, name
        assert signature.return_annotation == "Figure", name
    with pytest.raises(TypeError, match="does not support item assignment"):
        PLOT_KINDS["cake"] = PLOT_KINDS["cluster"]  # type: ignore[index]


@pytest.mark.parametrize("family", sorted(MEANINGLESS))
def test_every_kind_for_every_family_without_pyplot(X, data, families, family):
    """A kind draws a Figure where it means something and otherwise says what it needs; no
    kind opens a pyplot figure."""
    model = families[family]
    before = plt.get_fignums()
    for name in PLOT_KINDS:
        if name == "umap" and importlib.util.find_spec("umap") is None:
            continue  # an optional package: test_plots.py checks its message
        kwargs = dict(FAST.get(name, {}))
        if name in MEANINGLESS[family]:
            with pytest.raises(ValueError, match="needs"):
                plot_model(model, X, plot=name, data=data, **kwargs)
        else:
            fig = plot_model(model, X, plot=name, data=data, **kwargs)
            assert isinstance(fig, Figure), name
            assert any(ax.get_title() for ax in fig.axes) or fig.get_suptitle(), name
        assert plt.get_fignums() == before, name


def test_result_object_plots_do_not_use_pyplot(families):
    before = plt.get_fignums()
    model = families["hdbscan"]
    for fig in (model.condensed_tree_.plot(), model.single_linkage_tree_.plot()):
        assert isinstance(fig, Figure)
    assert plt.get_fignums() == before


def test_unknown_kind_lists_every_kind():
    with pytest.raises(ValueError, match="unknown plot 'pipe'; did you mean 'pipeline'"):
        plot_model(None, None, plot="pipe")
    with pytest.raises(ValueError, match=r"Plots are: cluster, .*, stability, pipeline$"):
        plots.check_plot_name("cake")


# --------------------------------------------------------------------------------------------
# save=, scale=, display_format=


def test_save_to_a_folder_returns_the_file(X, families, tmp_path, monkeypatch):
    path = plot_model(families["kmeans"], X, plot="elbow", k_range=[2, 3], save=tmp_path)
    assert path == str(tmp_path / "Elbow Plot.png")
    assert (tmp_path / "Elbow Plot.png").read_bytes().startswith(b"\x89PNG")
    monkeypatch.chdir(tmp_path)
    assert plot_model(families["kmeans"], X, plot="distribution", save=True) == (
        "Distribution Plot.png"
    )
    assert (tmp_path / "Distribution Plot.png").exists()
    assert isinstance(plot_model(families["kmeans"], X, save=False), Figure)
    assert isinstance(plot_model(families["kmeans"], X, save=tmp_path / "a.svg"), Figure)
    with pytest.raises(ValueError, match="or an existing folder; got 'nowhere'"):
        plot_model(families["kmeans"], X, save="nowhere")
    assert not (tmp_path / "nowhere").exists()


def _png_width(path) -> int:
    from PIL import Image

    with Image.open(path) as image:
        return image.width


def test_scale_multiplies_the_resolution(X, families, tmp_path):
    model = families["kmeans"]
    one = plot_model(model, X, plot="distribution", save=tmp_path / "one.png")
    two = plot_model(model, X, plot="distribution", scale=2, save=tmp_path / "two.png")
    assert two.get_dpi() == pytest.approx(2 * one.get_dpi())
    assert tuple(two.get_size_inches()) == tuple(one.get_size_inches())
    ratio = _png_width(tmp_path / "two.png") / _png_width(tmp_path / "one.png")
    assert ratio == pytest.approx(2, rel=0.02)
    for bad in (0, -1, "2", True):
        with pytest.raises(ValueError, match="scale must be a positive number"):
            plot_model(model, X, scale=bad)


def test_display_format_streamlit(X, families, tmp_path, monkeypatch):
    shown = []
    monkeypatch.setitem(sys.modules, "streamlit", types.SimpleNamespace(pyplot=shown.append))
    fig = plot_model(families["kmeans"], X, plot="distribution", display_format="streamlit")
    assert shown == [fig]
    plot_model(families["kmeans"], X, display_format="streamlit", save=tmp_path / "a.png")
    assert len(shown) == 1  # a saved plot is not shown, as in PyCaret
    monkeypatch.setitem(sys.modules, "streamlit", None)
    with pytest.raises(ImportError, match="pip install streamlit"):
        plot_model(families["kmeans"], X, display_format="streamlit")
    with pytest.raises(ValueError, match="display_format must be None or 'streamlit'; got 'html'"):
        plot_model(families["kmeans"], X, display_format="html")


# --------------------------------------------------------------------------------------------
# feature= and label=


def test_distribution_of_a_numeric_feature(X, data, families):
    model = families["dbscan"]
    fig = plot_model(model, X, plot="distribution", data=data, feature="income")
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_title()) == ("income", "Distribution of income by segment")
    labels = model.labels_
    order = [*range(labels.max() + 1), -1]
    edges = np.histogram_bin_edges(data["income"], bins="auto")
    heights = np.array([p.get_height() for p in ax.patches]).reshape(len(order), -1)
    for row, segment in zip(heights, order, strict=True):
        expected, _ = np.histogram(data["income"][labels == segment], bins=edges)
        np.testing.assert_array_equal(row, expected)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [*map(str, order[:-1]), "noise"]


def test_distribution_of_a_categorical_feature(X, data, families):
    labels = families["kmeans"].labels_
    ax = plot_model(families["kmeans"], X, plot="distribution", data=data, feature="region")
    ax = ax.axes[0]
    counts = pd.crosstab(data["region"], labels)
    counts = counts.loc[counts.sum(axis=1).sort_values(ascending=False).index]
    heights = np.array([p.get_height() for p in ax.patches]).reshape(counts.shape[1], -1)
    np.testing.assert_array_equal(heights, counts.to_numpy().T)
    with pytest.raises(ValueError, match="values must have one entry per row"):
        plots.plot_distribution(labels, values=data["region"][:10])


def test_label_writes_the_feature_beside_each_point(X, data, families):
    model = families["kmeans"]
    ax = plot_model(model, X, plot="cluster", data=data, label=True, feature="region").axes[0]
    texts = [t.get_text().strip() for t in ax.texts]
    assert sorted(texts) == sorted(data["region"])
    ax = plot_model(model, X, plot="cluster", data=data, label=True).axes[0]  # first column
    assert sorted(float(t.get_text()) for t in ax.texts) == pytest.approx(sorted(data["age"]))
    ax = plot_model(model, X, plot="tsne", data=data, label=True, **FAST["tsne"]).axes[0]
    assert len(ax.texts) == 60
    ax = plot_model(model, X, plot="cluster3d", data=data, label=True).axes[0]
    assert len(ax.texts) == N
    assert not plot_model(model, X, plot="cluster", data=data, feature="region").axes[0].texts


def test_point_labels_are_a_sample_for_large_clouds():
    X = np.random.default_rng(0).normal(size=(1000, 2))
    fig = plots.plot_clusters(X, np.zeros(1000, dtype=int), point_labels=np.arange(1000))
    assert len(fig.axes[0].texts) == plots.scatter.MAX_POINT_LABELS
    with pytest.raises(ValueError, match=r"point_labels must have one entry per row \(1000\)"):
        plots.plot_clusters(X, np.zeros(1000, dtype=int), point_labels=[1, 2])


def test_feature_option_errors(X, data, families):
    model = families["kmeans"]
    with pytest.raises(ValueError, match="feature 'height' is not a column of the data"):
        plot_model(model, X, plot="distribution", data=data, feature="height")
    with pytest.raises(ValueError, match="data has 10 rows and X 150"):
        plot_model(model, X, plot="distribution", data=data[:10], feature="age")
    with pytest.raises(TypeError, match="label must be True or False; got 'yes'"):
        plot_model(model, X, plot="cluster", label="yes")
    fig = plot_model(model, X, plot="feature", data=data, feature="visits")
    assert [ax.get_title() for ax in fig.axes if ax.get_visible()] == ["visits"]
    # kinds that have no use for feature= ignore it, as PyCaret's do
    assert isinstance(plot_model(model, X, plot="silhouette", feature="age"), Figure)


# --------------------------------------------------------------------------------------------
# the pipeline kind


@pytest.fixture(scope="module")
def preprocessing(data):
    columns = ColumnTransformer(
        [("numeric", StandardScaler(), ["age", "income", "visits"]),
         ("onehot", OneHotEncoder(), ["region"])]
    )  # fmt: skip
    return Pipeline([("columns", columns), ("normalize", StandardScaler())]).fit(data)


def _boxes(fig) -> list[str]:
    boxes = [t for t in fig.axes[0].texts if not isinstance(t, Annotation)]
    return [t.get_text().split("\n")[0] for t in boxes]


def _arrows(fig) -> int:
    return sum(isinstance(c, Annotation) for c in fig.axes[0].get_children())


def test_pipeline_kind_draws_every_step(X, families, preprocessing):
    fig = plot_model(families["kmeans"], X, plot="pipeline", pipeline=preprocessing)
    assert _boxes(fig) == ["input", "columns / numeric", "columns / onehot", "normalize", "model"]
    assert _arrows(fig) == 2 + 2 + 1  # fan out to the branches, fan in, then the model
    texts = "\n".join(t.get_text() for t in fig.axes[0].texts)
    assert "4 columns" in texts  # the fitted pipeline's input width
    assert "columns: age, income, visits" in texts
    assert "KMeans(n_clusters=3, n_init=2, random_state=0)" in texts.replace("\n  ", " ")
    assert fig.axes[0].get_title() == "Pipeline: 2 steps and the model"


def test_pipeline_kind_without_preprocessing(X, families):
    fig = plot_model(families["dbscan"], X, plot="pipeline")
    assert _boxes(fig) == ["input", "model"]
    assert "3 columns" in fig.axes[0].texts[0].get_text()
    assert fig.axes[0].get_title() == "Pipeline: 0 steps and the model"


def test_plot_pipeline_takes_clusterlab_preprocessing(data):
    from clusterlab.preprocessing import Preprocessor, SetupOptions

    pre = Preprocessor(SetupOptions.parse(normalize=True, verbose=False)).fit(data)
    fig = plots.plot_pipeline(pre)
    assert _boxes(fig)[0] == "input" and "normalize" in _boxes(fig)
    nested = plots.plot_pipeline(make_pipeline(StandardScaler(), StandardScaler(with_std=False)))
    assert len(_boxes(nested)) == 3
    with pytest.raises(TypeError, match="pipeline must be a scikit-learn Pipeline"):
        plots.plot_pipeline("scaler")
    with pytest.raises(ValueError, match="needs a pipeline= or a model"):
        plots.plot_pipeline()


# --------------------------------------------------------------------------------------------
# ax= everywhere, multi-panel plots included


def test_multi_panel_plots_take_the_place_of_ax(data, families):
    fig = Figure()
    left, right = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    labels = families["kmeans"].labels_
    assert plots.plot_feature(data, labels, max_features=3, ax=left) is fig
    assert left not in fig.axes and right in fig.axes
    assert len([ax for ax in fig.axes if ax.get_visible()]) == 1 + 3
    sub = Figure().subfigures(1, 2)[1]
    assert plots.plot_distribution(labels, ax=sub.add_subplot()) is sub.figure
    with pytest.raises(ValueError, match="ax must be a subplot"):
        plots.plot_feature(data, labels, ax=fig.add_axes((0, 0, 1, 1)))


# --------------------------------------------------------------------------------------------
# k selection and stability from the result objects


@pytest.fixture(scope="module")
def choose_k_result(X):
    from clusterlab.selection import choose_k

    return choose_k(X[: N - 5], k_range=range(2, 6), random_state=0, n_refs=2)


def test_k_selection_overlay_from_the_result(choose_k_result):
    r = choose_k_result
    ax = plots.plot_k_selection(r).axes[0]
    criteria = [c for c in r.table.columns if c not in ("votes", "gap_se")]
    assert len(ax.lines) == len(criteria) + 1  # + the chosen k
    assert ax.lines[-1].get_xdata()[0] == r.best_k
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts[-1] == f"chosen k = {r.best_k}"
    inertia = texts[criteria.index("inertia")]
    assert inertia.startswith("inertia ↓") and (r.votes["elbow"] is None) != ("best k" in inertia)


def test_k_selection_panels_are_choose_ks_layout(choose_k_result):
    from clusterlab.selection import CRITERIA

    r = choose_k_result
    fig = plots.plot_k_selection(r, layout="panels")
    criteria = [c for c in r.table.columns if c not in ("votes", "gap_se")]
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert len(panels) == len(criteria)
    for ax, column in zip(panels, criteria, strict=True):
        key = "elbow" if column == "inertia" else column
        assert ax.get_title() == CRITERIA[key]
        np.testing.assert_allclose(np.asarray(ax.lines[0].get_ydata(), float), r.table[column])
        vote = r.votes.get(key)
        legend = ax.get_legend()
        assert (legend is not None) == (vote is not None)
        if vote is not None:
            assert [t.get_text() for t in legend.get_texts()] == [f"chosen k = {vote}"]
    gap = panels[criteria.index("gap")]
    assert gap.containers, "the gap is drawn with its standard errors"
    assert fig.get_suptitle() == f"choose_k: k = {r.best_k}"
    with pytest.raises(ValueError, match="layout must be 'overlay' or 'panels'; got 'grid'"):
        plots.plot_k_selection(r, layout="grid")


def test_stability_from_the_result(X):
    from clusterlab.selection import stability

    result = stability(X[: N - 5], model="kmeans", n_clusters=3, n_resamples=4, random_state=0)
    ax = plots.plot_stability(result).axes[0]
    heights = [p.get_height() for p in ax.patches]
    np.testing.assert_allclose(heights, result.cluster_stability)
    assert ax.get_title() == f"Stability of each segment (mean ARI {result.mean_ari:.2f})"
    assert ax.lines[0].get_ydata()[0] == result.threshold
    with pytest.raises(ValueError, match=r"or a clusterlab\.selection\.StabilityResult; got list"):
        plots.plot_stability([0.5])


# --------------------------------------------------------------------------------------------
# trees


def test_dendrogram_prefers_the_models_linkage_matrix(X):
    from scipy.cluster.hierarchy import linkage

    Z = linkage(X[:40], "average")

    class Model:  # our AgglomerativeClustering / Genie: a linkage_matrix_ beside children_
        linkage_matrix_ = Z
        children_ = np.zeros((39, 2), dtype=int)  # never read
        n_clusters_ = 4

    ax = plots.plot_dendrogram(Model(), truncate=10).axes[0]
    assert ax.get_title() == "Dendrogram (cut at 4 clusters)"
    cut = next(line for line in ax.lines if line.get_label() == "cut: 4 clusters")
    assert cut.get_ydata()[0] == pytest.approx(0.5 * (Z[-4, 2] + Z[-3, 2]))
    assert ax.get_ylabel() == "merge distance"


def test_dendrogram_of_hdbscan_is_its_single_linkage_tree(families):
    model = families["hdbscan"]
    ax = plot_model(model, None, plot="dendrogram", truncate=None).axes[0]
    assert ax.get_title() == "Dendrogram"  # single-linkage clusters are not a cut
    assert ax.get_ylabel() == "mutual reachability distance"
    assert not [t for t in ax.get_xticklabels() if t.get_text()]
    links = [np.asarray(c.get_segments()) for c in ax.collections]
    heights = np.concatenate([link[:, 1:3, 1].ravel() for link in links])
    assert heights.max() == pytest.approx(model.single_linkage_tree_.to_numpy()[:, 2].max())


def _tiny_tree():
    """Points 0..5 under root 6; cluster 7 (points 2, 3) and 8 (points 4, 5) split at 2."""
    rows = [(6, 0, 0.5, 1), (6, 1, 1.0, 1), (6, 7, 2.0, 2), (6, 8, 2.0, 2),
            (7, 2, 3.0, 1), (7, 3, 3.0, 1), (8, 4, 4.0, 1), (8, 5, 5.0, 1)]  # fmt: skip
    return pd.DataFrame(rows, columns=["parent", "child", "lambda_val", "child_size"])


def test_icicle_of_a_hand_built_tree():
    tree = _condensed.tree_arrays(_tiny_tree())
    steps = _condensed.icicle(tree)
    got = sorted(zip(steps.node.tolist(), steps.bottom, steps.top, steps.width, strict=True))
    assert got == [
        (6, 0.0, 0.5, 6.0), (6, 0.5, 1.0, 5.0), (6, 1.0, 2.0, 4.0),
        (7, 2.0, 3.0, 2.0), (8, 2.0, 4.0, 2.0), (8, 4.0, 5.0, 1.0),
    ]  # fmt: skip
    assert steps.node_centre[6] == 3.0  # the root spans the six points
    assert {steps.node_centre[7], steps.node_centre[8]} == {2.0, 4.0}  # side by side, centred
    # excess of mass: the root (9.5) beats its children (2 + 5), but the root is never a cluster
    assert _condensed.select_clusters(tree, "eom") == [7, 8]
    assert _condensed.select_clusters(tree, "leaf") == [7, 8]


def test_condensed_tree_of_a_tree_alone_and_by_size(families):
    model = families["hdbscan"]
    k = model.n_clusters_
    tree_only = plots.plot_condensed_tree(model.condensed_tree_).axes[0]
    assert [t.get_text() for t in tree_only.get_legend().get_texts()] == [
        f"segment {s}" for s in range(k)
    ]
    by_size = plots.plot_condensed_tree(model, cmap="magma", log_size=True)
    assert len(by_size.axes) == 2  # the tree and its colour bar
    assert len(by_size.axes[0].patches) == k  # the selected clusters, outlined
    plain = plots.plot_condensed_tree(model, select_clusters=False).axes[0]
    assert plain.get_legend() is None
    small = plots.plot_condensed_tree(_tiny_tree()).axes[0]
    assert small.get_title() == "Condensed tree (2 selected clusters)"


def test_icicle_steps_follow_the_tree(families):
    """Each cluster's column starts at its birth with all its points, narrows without gaps
    and never widens; children sit side by side inside their parent's span."""
    raw = families["hdbscan"].condensed_tree_
    tree = _condensed.tree_arrays(raw)
    steps = _condensed.icicle(tree)
    sizes = {tree.root: raw.n_points} | {
        int(c): int(s) for c, s in zip(tree.child, tree.size, strict=True) if s > 1
    }
    is_cluster = tree.size > 1
    births = {tree.root: 0.0} | dict(
        zip(tree.child[is_cluster].tolist(), tree.lam[is_cluster].tolist(), strict=True)
    )
    assert set(np.unique(steps.node).tolist()) == set(sizes)
    for node, size in sizes.items():
        mine = np.flatnonzero(steps.node == node)
        mine = mine[np.argsort(steps.bottom[mine])]
        assert steps.bottom[mine[0]] == births[node]
        assert steps.width[mine[0]] == size
        np.testing.assert_array_equal(steps.top[mine[:-1]], steps.bottom[mine[1:]])
        assert np.all(np.diff(steps.width[mine]) < 0)
    for child, parent in _condensed.cluster_parents(tree).items():
        half = (sizes[parent] - sizes[child]) / 2
        assert abs(steps.node_centre[child] - steps.node_centre[parent]) <= half + 1e-9


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=-1, max_value=12), min_size=1, max_size=60))
def test_distribution_counts_any_labelling(labels):
    labels = np.array(labels)
    ax = plots.plot_distribution(labels).axes[0]
    order = [*np.unique(labels[labels >= 0]).tolist(), *([-1] if (labels == -1).any() else [])]
    assert [p.get_height() for p in ax.patches] == [np.sum(labels == s) for s in order]
    colours = plots.segment_colours(labels)
    assert colours[-1] == plots.NOISE_COLOUR
    assert len({tuple(colours[s]) for s in order if s >= 0}) == len(order) - (-1 in order)
