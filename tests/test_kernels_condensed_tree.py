"""The condensed-tree kernels against scikit-learn's own tree code on the same single-linkage tree.

scikit-learn's Cython functions (``_condense_tree``, ``tree_to_labels``, ``labelling_at_cut``) take
the single-linkage tree we feed our kernels, so every output must agree exactly, numbering included.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.spatial.distance import cdist

from clusterlab.kernels import condensed_tree as ct
from tests.checks import same_partition

sk_tree = pytest.importorskip("sklearn.cluster._hdbscan._tree")
sk_linkage = pytest.importorskip("sklearn.cluster._hdbscan._linkage")

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "clustering-benchmarks"
if not DATA.exists():  # a worktree sits one level deeper than a clone
    DATA = Path("/work/shared/data/clustering-benchmarks")


def _load(name: str) -> np.ndarray:
    with gzip.open(DATA / f"{name}.data.gz", "rt") as fh:
        X = np.loadtxt(fh, ndmin=2)
    # tiny jitter: real benchmark data sits on a grid, and exact distance ties make the
    # minimum spanning tree (not the kernels under test) ambiguous
    rng = np.random.default_rng(0)
    return X + rng.normal(scale=1e-6 * X.std(), size=X.shape)


def _mr_mst(X: np.ndarray, min_samples: int):
    """Mutual-reachability MST the slow, obviously correct way (dense matrix + scipy)."""
    D = cdist(X, X)
    core = np.sort(D, axis=1)[:, min_samples - 1]
    mr = np.maximum(D, np.maximum(core[:, None], core[None, :]))
    np.fill_diagonal(mr, 0.0)
    mst = minimum_spanning_tree(mr).tocoo()
    order = np.argsort(mst.data, kind="stable")
    return mst.row[order], mst.col[order], mst.data[order]


def _sk_single_linkage(a, b, w):
    edges = np.zeros(a.size, dtype=sk_linkage.MST_edge_dtype)
    edges["current_node"] = a
    edges["next_node"] = b
    edges["distance"] = w
    return sk_linkage.make_single_linkage(edges)


def _cases():
    rng = np.random.default_rng(42)
    blobs = np.concatenate(
        [rng.normal(c, 0.4, size=(120, 2)) for c in ((0, 0), (4, 0), (0, 4), (4.5, 4.5))]
        + [rng.uniform(-2, 7, size=(60, 2))]
    )
    return {
        "blobs": blobs,
        "uniform": rng.uniform(size=(300, 3)),
        "compound": _load("sipu/compound"),
        "hdbscan": _load("other/hdbscan")[::3],
    }


CASES = _cases()


@pytest.fixture(scope="module", params=sorted(CASES))
def tree(request):
    X = CASES[request.param]
    a, b, w = _mr_mst(X, 5)
    slt = _sk_single_linkage(a, b, w)
    return X.shape[0], slt


def _ours(slt, min_cluster_size):
    return ct.condense_tree(
        slt["left_node"].astype(np.int64),
        slt["right_node"].astype(np.int64),
        slt["value"].astype(np.float64),
        slt["cluster_size"].astype(np.int64),
        min_cluster_size,
    )


def _select(n, tree, method, allow_single, epsilon, max_size):  # noqa: PLR0917
    clusters = ct.cluster_arrays(tree, n)
    stab = ct.stabilities(tree, clusters, n)
    selected, subtree = ct.select_clusters(
        stab, clusters, method == "leaf", allow_single, epsilon, max_size or 0
    )
    labels, probs, _ = ct.label_points(tree, n, clusters, selected, allow_single, epsilon)
    return labels, probs, ct.persistence(subtree, selected, labels, tree[2])


@pytest.mark.parametrize("min_cluster_size", [2, 5, 15, 40])
def test_condense_matches_scikit_learn(tree, min_cluster_size):
    _, slt = tree
    expected = sk_tree._condense_tree(slt, min_cluster_size)
    parent, child, lam, size = _ours(slt, min_cluster_size)
    np.testing.assert_array_equal(parent, expected["parent"])
    np.testing.assert_array_equal(child, expected["child"])
    np.testing.assert_array_equal(lam, expected["value"])
    np.testing.assert_array_equal(size, expected["cluster_size"])


def _raw(parent, child, lam, size):
    raw = np.zeros(
        parent.size,
        dtype=[
            ("parent", np.intp),
            ("child", np.intp),
            ("lambda_val", float),
            ("child_size", np.intp),
        ],
    )
    raw["parent"], raw["child"], raw["lambda_val"], raw["child_size"] = parent, child, lam, size
    return raw


SELECTIONS = [
    ("eom", False, 0.0, None),
    ("leaf", False, 0.0, None),
    ("eom", True, 0.0, None),
    ("leaf", True, 0.0, None),
    ("eom", False, 0.0, 60),
    ("eom", True, 0.0, 100),
]
EPSILON_SELECTIONS = [
    ("eom", False, 0.3, None),
    ("leaf", False, 0.3, None),
    ("eom", True, 0.5, None),
    ("leaf", True, 2.0, None),
    ("eom", False, 0.2, 60),
    ("eom", False, 100.0, None),
]


@pytest.mark.parametrize("selection", SELECTIONS, ids=str)
@pytest.mark.parametrize("min_cluster_size", [5, 15])
def test_labels_and_probabilities_match_scikit_learn(tree, min_cluster_size, selection):
    method, allow_single, epsilon, max_size = selection
    n, slt = tree
    expected_labels, expected_probs = sk_tree.tree_to_labels(
        slt, min_cluster_size, method, allow_single, epsilon, max_size
    )
    labels, probs, _ = _select(
        n, _ours(slt, min_cluster_size), method, allow_single, epsilon, max_size
    )
    np.testing.assert_array_equal(labels, expected_labels)
    np.testing.assert_allclose(probs, expected_probs, rtol=1e-12, atol=0)


@pytest.mark.parametrize("selection", SELECTIONS + EPSILON_SELECTIONS, ids=str)
@pytest.mark.parametrize("min_cluster_size", [5, 15])
def test_selection_and_persistence_match_hdbscan_library(tree, min_cluster_size, selection):
    method, allow_single, epsilon, max_size = selection
    # scikit-learn 1.9's epsilon search fails under numpy 2.4 ("only 0-dimensional arrays can be
    # converted to Python scalars"), so cluster_selection_epsilon is checked against hdbscan
    hdbscan_tree = pytest.importorskip(
        "hdbscan._hdbscan_tree", reason="the hdbscan library is the epsilon-selection reference"
    )
    n, slt = tree
    parent, child, lam, size = _ours(slt, min_cluster_size)
    raw = _raw(parent, child, lam, size)
    expected_labels, expected_probs, expected_persistence = hdbscan_tree.get_clusters(
        raw,
        hdbscan_tree.compute_stability(raw),
        method,
        allow_single,
        False,
        epsilon,
        max_size or 0,
    )
    labels, probs, persistence = _select(
        n, (parent, child, lam, size), method, allow_single, epsilon, max_size
    )
    np.testing.assert_array_equal(labels, expected_labels)
    np.testing.assert_allclose(probs, expected_probs, rtol=1e-12, atol=0)
    # hdbscan accumulates subtree stabilities in float32: compare at that precision
    np.testing.assert_allclose(persistence, expected_persistence, rtol=1e-5)


@pytest.mark.parametrize("cut", [0.05, 0.2, 0.5, 1.5])
def test_cut_tree_matches_scikit_learn(tree, cut):
    _, slt = tree

    expected = sk_tree.labelling_at_cut(slt, cut, 5)
    ours = ct.cut_tree(
        slt["left_node"].astype(np.int64),
        slt["right_node"].astype(np.int64),
        slt["value"].astype(np.float64),
        cut,
        5,
    )
    np.testing.assert_array_equal(ours == -1, expected == -1)
    assert same_partition(ours, expected)


def test_glosh_matches_hdbscan_library(tree):
    hdbscan_tree = pytest.importorskip(
        "hdbscan._hdbscan_tree", reason="the hdbscan library is the GLOSH reference"
    )
    n, slt = tree
    parent, child, lam, size = _ours(slt, 10)
    tree = (parent, child, lam, size)
    ours = ct.glosh_scores(tree, n, ct.cluster_arrays(tree, n))
    raw = _raw(parent, child, lam, size)
    np.testing.assert_allclose(ours, hdbscan_tree.outlier_scores(raw), rtol=1e-12, atol=1e-15)


def test_tiny_hand_computed_tree():
    # points 0,1 merge at 1; 2,3 at 1; the pairs at 4: two clusters of two when min size is 2
    left = np.array([0, 2, 4], dtype=np.int64)
    right = np.array([1, 3, 5], dtype=np.int64)
    dist = np.array([1.0, 1.0, 4.0])
    size = np.array([2, 2, 4], dtype=np.int64)
    parent, child, lam, csize = ct.condense_tree(left, right, dist, size, 2)
    np.testing.assert_array_equal(parent, [4, 4, 5, 5, 6, 6])
    np.testing.assert_array_equal(child, [5, 6, 0, 1, 2, 3])
    np.testing.assert_allclose(lam, [0.25, 0.25, 1, 1, 1, 1])
    np.testing.assert_array_equal(csize, [2, 2, 1, 1, 1, 1])
    tree = (parent, child, lam, csize)
    clusters = ct.cluster_arrays(tree, 4)
    stab = ct.stabilities(tree, clusters, 4)
    # the root holds 4 points up to lambda 1/4; each pair lives from 1/4 to 1: 2 * 0.75
    np.testing.assert_allclose(stab, [1.0, 1.5, 1.5])
    selected, _ = ct.select_clusters(stab, clusters, False, False, 0.0, 0)
    labels, probs, _ = ct.label_points(tree, 4, clusters, selected, False, 0.0)
    np.testing.assert_array_equal(labels, [0, 0, 1, 1])
    np.testing.assert_allclose(probs, 1.0)
    np.testing.assert_array_equal(ct.cut_tree(left, right, dist, 2.0, 2), [0, 0, 1, 1])
    np.testing.assert_array_equal(ct.cut_tree(left, right, dist, 5.0, 2), [0, 0, 0, 0])
    np.testing.assert_array_equal(ct.cut_tree(left, right, dist, 0.5, 2), [-1, -1, -1, -1])


def test_persistence_is_one_for_an_immortal_cluster():
    stab = np.array([0.0, 3.0])
    selected = np.array([False, True])
    labels = np.array([0, 0, 0, -1])
    lam = np.array([np.inf, 1.0])
    np.testing.assert_allclose(ct.persistence(stab, selected, labels, lam), [1.0])
    np.testing.assert_allclose(
        ct.persistence(stab, selected, labels, np.array([0.5, 2.0])), [3.0 / (3 * 2.0)]
    )
