"""Setup options, schema inference and the preprocessing pipeline."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clusterlab.preprocessing import (
    ColumnOptions,
    CorrelationFilter,
    DateFeatures,
    FrequencyEncoder,
    Preprocessor,
    SetupOptions,
    as_frame,
    infer_schema,
)


@pytest.fixture(scope="module")
def mixed():
    rng = np.random.default_rng(0)
    n = 60
    df = pd.DataFrame(
        {
            "customer_id": np.arange(1000, 1000 + n),
            "spend": rng.lognormal(3, 1, n),
            "visits": rng.poisson(4, n).astype(float),
            "segment": rng.choice(["a", "b", "c"], n),
            "city": [f"city{i % 40}" for i in range(n)],
            "size": rng.choice(["S", "M", "L"], n),
            "joined": pd.date_range("2021-01-01", periods=n, freq="7D").astype(str),
            "comment": [f"customer number {i} said hello" for i in range(n)],
            "const": 1,
            "truth": rng.integers(0, 3, n),
        }
    )
    df.loc[[2, 5], "spend"] = np.nan
    df.loc[7, "segment"] = None
    return df


def test_schema_inference(mixed):
    schema = infer_schema(mixed, ColumnOptions(ground_truth="truth"))
    kinds = schema["kind"].to_dict()
    assert kinds == {
        "customer_id": "id",
        "spend": "numeric",
        "visits": "numeric",
        "segment": "categorical",
        "city": "categorical",
        "size": "categorical",
        "joined": "date",
        "comment": "text",
        "const": "constant",
        "truth": "ground_truth",
    }
    assert schema.loc["spend", "missing"] == 2


def test_pipeline_features_and_no_leak(mixed):
    opts = SetupOptions.parse(
        ground_truth="truth",
        normalize=True,
        ordinal_features={"size": ["S", "M", "L"]},
        max_encoding_ohe=10,
        verbose=False,
    )
    pre = Preprocessor(opts).fit(mixed)
    X = pre.transform(mixed)
    assert list(X.index) == list(mixed.index)
    cols = set(X.columns)
    assert {"segment_a", "segment_b", "segment_c", "city", "size", "spend"} <= cols
    assert {"joined_year", "joined_month"} <= cols
    assert not any(c.startswith(("truth", "customer_id", "comment", "const")) for c in cols)
    assert np.isfinite(X.to_numpy()).all()
    # zscore: every prepared column centred
    np.testing.assert_allclose(X.mean().to_numpy(), 0, atol=1e-9)
    # ordinal keeps the given order
    assert X.loc[mixed["size"] == "S", "size"].max() < X.loc[mixed["size"] == "L", "size"].min()


def test_input_not_modified(mixed):
    before = mixed.copy()
    Preprocessor(SetupOptions.parse(normalize=True, log_transform=True, verbose=False)).fit(mixed)
    pd.testing.assert_frame_equal(mixed, before)


@pytest.mark.parametrize(
    ("options", "reason", "count"),
    [
        ({"numeric_imputation": "drop"}, "missing values", 2),
        ({"categorical_imputation": "drop"}, "missing values", 1),
        ({"remove_outliers": True, "outliers_threshold": 0.1}, "outlier", 6),
        (
            {"remove_outliers": True, "outliers_method": "lof", "outliers_threshold": 0.1},
            "outlier",
            6,
        ),
    ],
)
def test_rows_left_out(mixed, options, reason, count):
    pre = Preprocessor(SetupOptions.parse(verbose=False, session_id=0, **options)).fit(mixed)
    assert (pre.dropped_ == reason).sum() == count
    assert pre.train_mask_.sum() == len(mixed) - count
    # every row can still be transformed (for predict)
    assert np.isfinite(pre.transform(mixed).to_numpy()).all()


def test_transformations_use_sklearn_steps(mixed):
    opts = SetupOptions.parse(
        log_transform=True,
        transformation=True,
        transformation_method="quantile",
        normalize=True,
        normalize_method="robust",
        remove_multicollinearity=True,
        low_variance_threshold=0.0,
        pca=True,
        pca_components=3,
        numeric_imputation="knn",
        verbose=False,
    )
    pre = Preprocessor(opts).fit(mixed)
    names = [name for name, _ in pre.pipeline_.steps]
    assert names == ["columns", "low_variance", "multicollinearity", "normalize", "pca"]
    assert "numeric_log1p" in pre.pipeline_.named_steps["columns"].named_transformers_
    assert pre.transform(mixed).shape == (len(mixed), 3)


def test_small_transformers():
    d = DateFeatures(parts=("year", "weekday")).fit(pd.DataFrame({"d": ["2024-03-04", None]}))
    out = d.transform(pd.DataFrame({"d": ["2024-03-04", None]}))
    assert out[0].tolist() == [2024.0, 0.0]
    assert np.isnan(out[1]).all()
    f = FrequencyEncoder().fit(pd.DataFrame({"c": ["a", "b", "b", "b"]}))
    assert f.transform(pd.DataFrame({"c": ["b", "zz"]})).ravel().tolist() == [0.75, 0.0]
    X = np.column_stack([np.arange(10.0), 2 * np.arange(10.0), np.sin(np.arange(10.0))])
    assert CorrelationFilter(0.95).fit(X).keep_.tolist() == [True, False, True]


def test_errors():
    with pytest.raises(ValueError, match="at least one row"):
        as_frame(pd.DataFrame())
    with pytest.raises(ValueError, match="column 'b' has only missing values"):
        infer_schema(pd.DataFrame({"a": [1.0, 2.0], "b": [np.nan, np.nan]}), ColumnOptions())
    with pytest.raises(TypeError, match="did you mean 'normalize'"):
        SetupOptions.parse(normalise=True)
    with pytest.raises(ValueError, match="normalize_method must be one of"):
        SetupOptions.parse(normalize_method="l2")
    with pytest.raises(ValueError, match="did you mean 'spend'"):
        infer_schema(pd.DataFrame({"spend": [1.0, 2.0]}), ColumnOptions(ignore_features=["spnd"]))
    text = pd.DataFrame({"note": [f"this is free text number {i}" for i in range(30)]})
    with pytest.raises(ValueError, match=r"no usable feature columns.*note \(text\)"):
        Preprocessor(SetupOptions.parse(verbose=False)).fit(text)


@st.composite
def _frames(draw):
    n = draw(st.integers(1, 30))
    cols = {}
    for j in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["float", "int", "text", "bool"]))
        if kind == "float":
            values = draw(
                st.lists(st.one_of(st.floats(-1e6, 1e6), st.just(np.nan)), min_size=n, max_size=n)
            )
        elif kind == "int":
            values = draw(st.lists(st.integers(-100, 100), min_size=n, max_size=n))
        elif kind == "text":
            values = draw(
                st.lists(
                    st.one_of(st.sampled_from(["a", "b", "c d"]), st.none()), min_size=n, max_size=n
                )
            )
        else:
            values = draw(st.lists(st.booleans(), min_size=n, max_size=n))
        cols[f"c{j}"] = values
    return pd.DataFrame(cols)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=_frames(), normalize=st.booleans())
def test_any_small_frame_is_prepared_or_refused_clearly(frame, normalize):
    before = frame.copy()
    try:
        pre = Preprocessor(SetupOptions.parse(normalize=normalize, verbose=False)).fit(frame)
    except ValueError as exc:
        assert any(
            text in str(exc)
            for text in ("only missing values", "no usable feature columns", "infinite values")
        )
        return
    finally:
        pd.testing.assert_frame_equal(frame, before)
    X = pre.transform(frame)
    assert X.index.equals(frame.index)
    assert X.shape[1] >= 1
    assert np.isfinite(X.to_numpy()).all()
