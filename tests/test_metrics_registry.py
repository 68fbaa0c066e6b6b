"""The metric registry: lookup, metadata the workflow relies on, user metrics."""

from __future__ import annotations

import pytest

from clusterlab.metrics import (
    Metric,
    davies_bouldin_score,
    get_metric,
    list_metrics,
    register_metric,
    unregister_metric,
)

REQUIRED = [
    "silhouette", "calinski_harabasz", "davies_bouldin", "dunn", "simplified_silhouette",
    "inertia", "dbcv", "ari", "ami", "nmi", "rand", "mi", "homogeneity", "completeness",
    "v_measure", "fowlkes_mallows", "purity", "nca",
]  # fmt: skip
LOWER_IS_BETTER = {"davies_bouldin", "inertia", "bic", "aic"}


def test_required_ids_and_direction():
    table = list_metrics()
    assert set(REQUIRED) <= set(table.index)
    for name in table.index:
        assert bool(table.loc[name, "greater_is_better"]) == (name not in LOWER_IS_BETTER), name
    assert get_metric("davies_bouldin").greater_is_better is False
    assert get_metric("davies_bouldin").function is davies_bouldin_score


def test_metadata_consistent():
    for name in list_metrics().index:
        m = get_metric(name)
        assert isinstance(m, Metric)
        assert m.cost in ("O(n)", "O(n·k)", "O(n²)")
        assert m.needs_features == (not m.needs_ground_truth)
        if m.cost == "O(n²)":
            assert m.supports_sample_size, name
    assert get_metric("silhouette").cost == "O(n²)"
    assert get_metric("ari").needs_ground_truth


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("Silhouette", "silhouette"),
        ("davies_bouldin", "davies_bouldin"),
        ("DB", "davies_bouldin"),
        ("Davies-Bouldin", "davies_bouldin"),
        ("Calinski-Harabasz", "calinski_harabasz"),
        ("adjusted_rand_score", "ari"),
        ("Rand Index", "rand"),
        ("AMI", "ami"),
        ("V-Measure", "v_measure"),
    ],
)
def test_lookup_by_alias_case_insensitive(query, name):
    assert get_metric(query).name == name


def test_unknown_name_suggests():
    with pytest.raises(ValueError, match="did you mean 'silhouette'"):
        get_metric("silhouete")
    with pytest.raises(ValueError, match="registered name"):
        get_metric("zzzz")
    with pytest.raises(TypeError, match="metric must be a str, a Metric or a callable"):
        get_metric(3)


def test_callable_and_metric_pass_through():
    def spread(X, labels):
        return 1.0

    m = get_metric(spread)
    assert m.name == "spread" and m.greater_is_better and m.needs_features
    assert get_metric(m) is m


def test_register_and_unregister():
    def n_groups(X, labels):
        return float(len(set(labels)))

    m = register_metric("n_groups", n_groups, greater_is_better=False, cost="O(n)", aliases=("ng",))
    try:
        assert get_metric("NG") is m
        assert "n_groups" in list_metrics().index
        assert not m.greater_is_better and m.needs_features
        with pytest.raises(ValueError, match="already registered"):
            register_metric("n_groups", n_groups)
        with pytest.raises(ValueError, match="already refer to"):
            register_metric("other", n_groups, aliases=("db",))
        replaced = register_metric("n_groups", n_groups, overwrite=True)
        assert get_metric("n_groups") is replaced
        with pytest.raises(ValueError, match="function must be given"):
            register_metric("x")
        with pytest.raises(ValueError, match="cost must be one of"):
            register_metric("x", n_groups, cost="O(n^3)")
    finally:
        unregister_metric("n_groups")
    assert "n_groups" not in list_metrics().index
    with pytest.raises(ValueError, match="registered name"):
        unregister_metric("n_groups")


def test_metric_better_and_call():
    db = get_metric("db")
    assert db.better(0.1, 0.5) and not db.better(0.5, 0.1)
    assert get_metric("ari")([0, 0, 1], [1, 1, 0]) == 1.0
