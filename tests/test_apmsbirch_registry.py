"""Registry entries ap, meanshift and birch: clusterlab's estimators by default, scikit-learn's
selectable, and workflow defaults that segment customer data sensibly (issue 16, item 4)."""

from __future__ import annotations

import numpy as np
import pytest

from clusterlab import Experiment
from clusterlab.cluster.meanshift import default_bandwidth
from clusterlab.datasets import load_wholesale_customers
from clusterlab.models import REGISTRY, DataContext
from clusterlab.models.registry import MEANSHIFT_MIN_SHARE

_OURS = {
    "ap": "clusterlab.cluster.affinity",
    "meanshift": "clusterlab.cluster.meanshift",
    "birch": "clusterlab.cluster.birch",
}


@pytest.fixture(scope="module")
def wholesale():
    """The demo's prepared rows: setup(normalize=True) of the wholesale customers (Region and the
    six z-scored spending columns; Channel is the ground truth)."""
    exp = Experiment(
        load_wholesale_customers(), normalize=True, ground_truth="Channel", session_id=1,
        verbose=False,
    )  # fmt: skip
    return exp.get_config("X_transformed").to_numpy(dtype=np.float64)


@pytest.mark.parametrize("model_id", sorted(_OURS))
def test_default_engine_is_ours_and_sklearn_stays_selectable(model_id):
    entry = REGISTRY[model_id]
    assert entry.default_engine == "clusterlab"
    assert type(entry.factory()).__module__ == _OURS[model_id]
    assert type(entry.build("sklearn")).__module__.startswith("sklearn.cluster")


def test_meanshift_defaults_are_our_rule_for_every_engine(wholesale):
    entry = REGISTRY["meanshift"]
    context = DataContext(wholesale, seed=3, search_size=2_000)
    params = entry.default_params(context, {})
    assert params == {"bandwidth": pytest.approx(default_bandwidth(wholesale, random_state=3))}
    assert entry.default_params(context, {"bandwidth": 2.0}) == {}
    assert entry.factory(**params).get_params()["min_cluster_size"] == MEANSHIFT_MIN_SHARE
    assert "min_cluster_size" not in entry.build("sklearn", **params).get_params()


def test_meanshift_default_is_not_one_segment_on_wholesale(wholesale):
    # scikit-learn's estimate put 96% of these customers in one segment
    entry = REGISTRY["meanshift"]
    params = entry.default_params(DataContext(wholesale, seed=1, search_size=2_000), {})
    labels = entry.factory(**params).fit(wholesale).labels_
    shares = np.bincount(labels) / labels.size
    assert 2 <= shares.size <= 6
    assert shares.max() < 0.7


def test_ap_takes_k_from_choose_k_and_gives_that_many_segments(wholesale):
    # scikit-learn's default preference gives 38 segments for these 440 customers
    entry = REGISTRY["ap"]
    assert entry.needs_k and entry.key_param == "n_clusters"
    params = entry.default_params(DataContext(wholesale, seed=1, search_size=2_000), {})
    assert params == {"random_state": 1, "n_clusters": 4}
    model = entry.factory(**params).fit(wholesale)
    assert model.n_clusters_ == 4
    assert np.unique(model.labels_).size == 4


def test_birch_tuning_space_is_valid_for_ours(wholesale):
    entry = REGISTRY["birch"]
    space = entry.tune_space(DataContext(wholesale, seed=0, search_size=2_000))
    model = entry.factory(n_clusters=space["n_clusters"][0], threshold=space["threshold"][0])
    labels = model.fit(wholesale).labels_
    assert np.unique(labels).size == space["n_clusters"][0]
