import numbers

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.base import BaseEstimator

from clusterlab._validation import (
    BOOLEAN,
    NONE,
    RANDOM_STATE,
    Interval,
    InvalidParameterError,
    Options,
    check_data,
    check_n_clusters,
    check_sample_weight,
    validate_params,
)


class _Est(BaseEstimator):
    pass


def test_interval_message_names_parameter_rule_value():
    rules = {"n_clusters": [Interval(numbers.Integral, 1, None, closed="left")]}
    with pytest.raises(
        InvalidParameterError, match=r"n_clusters must be an int in \[1, inf\); got 0"
    ):
        validate_params({"n_clusters": 0}, rules)
    validate_params({"n_clusters": np.int64(3)}, rules)


def test_options_and_alternatives():
    rules = {
        "algorithm": [Options("lloyd", "elkan")],
        "n_init": [Options("auto"), Interval(numbers.Integral, 1, None)],
    }
    with pytest.raises(
        ValueError, match=r"algorithm must be one of \{'lloyd', 'elkan'\}; got 'full'"
    ):
        validate_params({"algorithm": "full"}, rules)
    with pytest.raises(
        TypeError, match=r"n_init must be one of \{'auto'\} or an int in \[1, inf\); got 1.5"
    ):
        validate_params({"n_init": 1.5}, rules)


def test_bool_is_not_an_int_and_nan_not_a_number():
    rules = {"k": [Interval(numbers.Integral, 1, None)], "tol": [Interval(numbers.Real, 0, None)]}
    with pytest.raises(InvalidParameterError, match="got True"):
        validate_params({"k": True}, rules)
    with pytest.raises(InvalidParameterError, match="tol must be a number in"):
        validate_params({"tol": float("nan")}, rules)


def test_named_kinds():
    rules = {"random_state": [RANDOM_STATE], "copy": [BOOLEAN], "x": [NONE]}
    validate_params({"random_state": np.random.RandomState(0), "copy": True, "x": None}, rules)
    with pytest.raises(InvalidParameterError, match="random_state must be None, an int >= 0"):
        validate_params({"random_state": -1}, rules)


@pytest.mark.parametrize(
    "closed,left_ok,right_ok",
    [
        ("both", True, True),
        ("neither", False, False),
        ("left", True, False),
        ("right", False, True),
    ],
)
def test_interval_closed(closed, left_ok, right_ok):
    iv = Interval(numbers.Real, 0, 1, closed=closed)
    assert iv.is_satisfied_by(0.0) is left_ok
    assert iv.is_satisfied_by(1.0) is right_ok
    assert iv.is_satisfied_by(0.5)


def test_check_data_keeps_float32_and_feature_names():
    est = _Est()
    df = pd.DataFrame({"a": np.arange(3, dtype=np.float32), "b": np.ones(3, dtype=np.float32)})
    X = check_data(est, df)
    assert X.dtype == np.float32
    assert list(est.feature_names_in_) == ["a", "b"]
    assert est.n_features_in_ == 2
    X64 = check_data(_Est(), np.arange(6).reshape(3, 2))
    assert X64.dtype == np.float64


@pytest.mark.parametrize(
    "X,match,exc",
    [
        (np.array([[1.0, np.nan]]), "NaN", ValueError),
        (np.array([[1.0, np.inf]]), "infinity", ValueError),
        (np.empty((0, 3)), "0 sample", ValueError),
        (np.arange(3.0), "Expected 2D array", ValueError),
        (np.array([["a", "b"]], dtype=object), "X must contain only numbers", ValueError),
        ("data.csv", "X must be a 2-D array-like of numbers; got the string", TypeError),
    ],
)
def test_check_data_errors(X, match, exc):
    with pytest.raises(exc, match=match):
        check_data(_Est(), X)


def test_check_data_feature_count_on_predict():
    est = _Est()
    check_data(est, np.ones((3, 4)))
    with pytest.raises(ValueError, match="X has 3 features, but _Est is expecting 4 features"):
        check_data(est, np.ones((3, 3)), reset=False)


def test_check_data_does_not_modify_input():
    X = np.arange(6, dtype=np.int64).reshape(3, 2)
    before = X.copy()
    check_data(_Est(), X)
    np.testing.assert_array_equal(X, before)


def test_check_n_clusters():
    check_n_clusters(3, 3)
    with pytest.raises(ValueError, match=r"n_clusters must be an int in \[1, n_samples=2\]; got 3"):
        check_n_clusters(3, 2)


def test_check_sample_weight():
    np.testing.assert_array_equal(check_sample_weight(None, 3, np.float32), np.ones(3, np.float32))
    assert check_sample_weight(2, 2, np.float64).tolist() == [2.0, 2.0]
    with pytest.raises(ValueError, match=r"sample_weight must have shape \(3,\)"):
        check_sample_weight([1, 2], 3, np.float64)
    with pytest.raises(ValueError, match="sample_weight must be non-negative"):
        check_sample_weight([1, -2, 1], 3, np.float64)
    with pytest.raises(ValueError, match="positive sum"):
        check_sample_weight([0, 0], 2, np.float64)
    with pytest.raises(ValueError, match="finite"):
        check_sample_weight([0, np.nan], 2, np.float64)
    with pytest.raises(TypeError, match="sample_weight must be numeric"):
        check_sample_weight(["a", "b"], 2, np.float64)


@given(st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), min_size=1, max_size=20))
def test_check_data_property_finite_or_clear_error(values):
    X = np.array(values).reshape(-1, 1)
    original = X.copy()
    if np.all(np.isfinite(X)):
        out = check_data(_Est(), X)
        np.testing.assert_array_equal(out, X)
    else:
        with pytest.raises(ValueError, match=r"NaN|infinity"):
            check_data(_Est(), X)
    np.testing.assert_array_equal(X, original)
