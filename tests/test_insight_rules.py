"""Surrogate-tree rules: precision and coverage equal direct counts on the data."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from clusterlab.insight import describe_segments


def _matches(frame: pd.DataFrame, rule: str) -> np.ndarray:
    """Evaluate a rule's text on the frame (the grammar describe_segments writes)."""
    mask = np.ones(len(frame), dtype=bool)
    for clause in rule.split(" and "):
        if m := re.fullmatch(r"(.+) < (\w+) ≤ (.+)", clause):
            low, name, high = float(m[1].replace(",", "")), m[2], float(m[3].replace(",", ""))
            mask &= (frame[name] > low) & (frame[name] <= high)
        elif m := re.fullmatch(r"(\w+) ≤ (.+)", clause):
            mask &= frame[m[1]] <= float(m[2].replace(",", ""))
        elif m := re.fullmatch(r"(\w+) > (.+)", clause):
            mask &= frame[m[1]] > float(m[2].replace(",", ""))
        elif m := re.fullmatch(r"(\w+) = (.+)", clause):
            mask &= frame[m[1]].astype(str) == m[2]
        elif m := re.fullmatch(r"(\w+) ≠ (.+)", clause):
            mask &= frame[m[1]].astype(str) != m[2]
        else:
            raise AssertionError(f"unparsed clause {clause!r}")
    return np.asarray(mask)


@pytest.fixture(scope="module")
def mixed():
    rng = np.random.default_rng(0)
    n = 300
    frame = pd.DataFrame(
        {
            "age": rng.integers(18, 80, n),
            "visits": rng.integers(0, 9, n),
            "city": rng.choice(["Lisbon", "Porto", "Faro"], n),
        }
    )
    labels = np.where(frame["age"] > 50, 1, 0)
    labels[(frame["city"] == "Faro") & (frame["visits"] > 5)] = 2
    labels[rng.choice(n, 10, replace=False)] = -1
    return frame, labels


def test_precision_and_coverage_equal_direct_counts(mixed):
    frame, labels = mixed
    result = describe_segments(frame, labels, max_depth=3, min_samples_leaf=1)
    assert len(result.rules) > 3
    for row in result.rules.itertuples(index=False):
        segment = -1 if row.segment == "noise" else int(row.segment)
        matched = _matches(frame, row.rule)
        in_segment = labels == segment
        assert row.n_matched == matched.sum()
        assert row.n_correct == (matched & in_segment).sum()
        assert row.precision == pytest.approx((matched & in_segment).sum() / matched.sum())
        assert row.coverage == pytest.approx((matched & in_segment).sum() / in_segment.sum())


def test_fidelity_is_accuracy_of_the_rules(mixed):
    frame, labels = mixed
    result = describe_segments(frame, labels, max_depth=3, min_samples_leaf=1)
    # every row matches exactly one rule; the rule's segment is the tree's prediction
    correct = sum(int(row.n_correct) for row in result.rules.itertuples(index=False))
    assert result.fidelity == pytest.approx(correct / len(frame))
    assert sum(result.rules["n_matched"]) == len(frame)


def test_separable_segments_get_exact_rules():
    frame = pd.DataFrame({"spend": [1.0, 2.0, 3.0, 10.0, 12.0, 14.0], "city": list("aabbbb")})
    result = describe_segments(frame, [0, 0, 0, 1, 1, 1], max_depth=2, min_samples_leaf=1)
    assert result.fidelity == 1.0
    assert result.rules["rule"].tolist() == ["spend ≤ 6.5", "spend > 6.5"]
    assert result.rules["precision"].tolist() == [1.0, 1.0]
    assert result.rules["coverage"].tolist() == [1.0, 1.0]
    assert result.for_segment(1)["rule"].tolist() == ["spend > 6.5"]


def test_categorical_conditions_read_as_equalities():
    frame = pd.DataFrame({"city": ["Lisbon"] * 5 + ["Porto"] * 5 + ["Faro"] * 5})
    result = describe_segments(frame, [0] * 5 + [1] * 10, max_depth=1, min_samples_leaf=1)
    assert set(result.rules["rule"]) == {"city = Lisbon", "city ≠ Lisbon"}
    assert "fidelity 100.0%" in str(result)


def test_wholesale_thresholds_in_original_units(wholesale):
    labels = (wholesale["Grocery"] > 10_000).astype(int).to_numpy()
    result = describe_segments(wholesale, labels, max_depth=1)
    low_rule, high_rule = result.rules["rule"]
    assert low_rule.startswith("Grocery ≤ ")
    threshold = float(low_rule.removeprefix("Grocery ≤ ").replace(",", ""))
    assert high_rule == f"Grocery > {low_rule.removeprefix('Grocery ≤ ')}"
    grocery = wholesale["Grocery"]
    assert grocery[labels == 0].max() <= threshold < grocery[labels == 1].min()
    assert result.fidelity == 1.0


def test_errors(mixed):
    frame, labels = mixed
    with pytest.raises(ValueError, match="max_depth must be an int >= 1; got 0"):
        describe_segments(frame, labels, max_depth=0)
    with pytest.raises(ValueError, match="labels must have one entry per row"):
        describe_segments(frame, labels[:5])
