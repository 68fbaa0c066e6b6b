"""clusterlab.transformers, against scikit-learn and hand-computed cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.impute import IterativeImputer
from sklearn.linear_model import BayesianRidge, LinearRegression, LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from clusterlab.preprocessing import CorrelationFilter
from clusterlab.transformers import (
    GroupFeatures,
    IterativeImputation,
    RareCategories,
    TextEmbedding,
    VarianceFilter,
    imputation_estimator,
    kept_columns,
    sturges_bins,
)


def test_kept_columns_and_sturges():
    names = ["age", "age_2", "city_Paris", "city", "cityscape", "b"]
    assert kept_columns(names, ["city", "age"]).tolist() == [True, True, True, True, False, False]
    assert kept_columns(names, []).tolist() == [False] * 6
    # Sturges: ceil(log2 n) + 1
    assert [sturges_bins(n) for n in (1, 2, 8, 9, 505, 1080)] == [1, 2, 4, 5, 10, 12]


def test_rare_categories_hand_computed():
    X = pd.DataFrame({"c": ["a"] * 6 + ["b"] * 3 + ["c"], "d": ["x"] * 5 + ["y"] * 5})
    rare = RareCategories(0.25, "other").fit(X)
    out = rare.transform(X)
    # 'b' is 30% (kept), 'c' is 10% (rare); both 'x' and 'y' are 50%
    assert out[:, 0].tolist() == ["a"] * 6 + ["b"] * 3 + ["other"]
    assert out[:, 1].tolist() == X["d"].tolist()
    new = pd.DataFrame({"c": ["b", "zz", None], "d": ["y", "x", "q"]})
    got = rare.transform(new)
    assert got[0, 0] == "b" and got[1, 0] == "other" and pd.isna(got[2, 0])  # unseen -> rare
    assert got[:, 1].tolist() == ["y", "x", "other"]
    assert rare.get_feature_names_out().tolist() == ["c", "d"]
    assert X["c"].tolist()[-1] == "c"  # input untouched


@pytest.mark.parametrize(
    ("method", "reference"), [("tf-idf", TfidfVectorizer), ("bow", CountVectorizer)]
)
def test_text_embedding_equals_sklearn_vectorizer_per_column(method, reference):
    notes = pd.DataFrame(
        {
            "a": ["red apple pie", "green apple", None, "red wine red"],
            "b": ["big dog", "small cat", "big cat", "dog"],
        }
    )
    emb = TextEmbedding(method).fit(notes)
    out = emb.transform(notes)
    start = 0
    for col in ("a", "b"):
        texts = notes[col].fillna("").tolist()
        ref = reference().fit(texts)
        terms = ref.get_feature_names_out()
        block = out[:, start : start + len(terms)]
        np.testing.assert_allclose(block, ref.transform(texts).toarray())
        names = emb.get_feature_names_out()[start : start + len(terms)]
        assert names.tolist() == [f"{col}_{t}" for t in terms]
        start += len(terms)
    assert out.shape[1] == start


def test_text_embedding_vectorizer_object_is_cloned_and_empty_text_refused():
    vec = TfidfVectorizer(max_features=2)
    emb = TextEmbedding(vec).fit(pd.DataFrame({"t": ["a bb cc", "bb cc dd", "cc dd ee"]}))
    assert emb.transform(pd.DataFrame({"t": ["cc"]})).shape == (1, 2)
    assert not hasattr(vec, "vocabulary_")  # the user's object is never fitted
    with pytest.raises(ValueError, match="text column 't' has no words to embed"):
        TextEmbedding().fit(pd.DataFrame({"t": ["a", "b", None]}))


def test_text_embedding_respects_the_memory_budget():
    from clusterlab import config_context

    emb = TextEmbedding().fit(pd.DataFrame({"t": [f"word{i} common" for i in range(200)]}))
    with config_context(memory_budget=0.1), pytest.raises(MemoryError, match="max_features"):
        emb.transform(pd.DataFrame({"t": ["common"] * 1000}))


@pytest.fixture(scope="module")
def proteins():
    """Ten protein columns of PyCaret's mice data with their own missing values, and more."""
    from clusterlab.io import read_table

    from .test_setup_parameters import shared_file

    frame = read_table(shared_file("mice.csv"))
    cols = [c for c in frame.columns if c.endswith("_N")][:10]
    out = frame[cols].copy()
    rng = np.random.default_rng(0)
    for c in cols[:4]:
        out.loc[rng.choice(len(out), 60, replace=False), c] = np.nan
    return out


@pytest.mark.filterwarnings("ignore:.*Early stopping criterion not reached")
def test_iterative_imputation_equals_sklearn_iterative_imputer(proteins):
    # same algorithm on numeric columns: mean start, ascending order, every other column as
    # predictors, max_iter full rounds (sklearn's tol=0 disables its early stop)
    ours = IterativeImputation(
        numeric=tuple(proteins.columns),
        numeric_estimator=BayesianRidge(),
        categorical_estimator=LogisticRegression(),
        max_iter=4,
    ).fit(proteins)
    ref = IterativeImputer(estimator=BayesianRidge(), max_iter=4, tol=0, random_state=0)
    expected = ref.fit_transform(proteins.to_numpy())
    np.testing.assert_allclose(ours.transform(proteins).to_numpy(), expected, rtol=1e-9)
    # transform replays the fitted sequence: training data come out as fit_transform gave them
    np.testing.assert_array_equal(
        ours.transform(proteins).to_numpy(), clone(ours).fit_transform(proteins).to_numpy()
    )
    observed = proteins.notna().to_numpy()
    np.testing.assert_array_equal(
        ours.transform(proteins).to_numpy()[observed], proteins.to_numpy()[observed]
    )


def test_iterative_imputation_recovers_a_determined_category():
    from clusterlab.io import read_table

    from .test_setup_parameters import shared_file

    mice = read_table(shared_file("mice.csv"))[["Genotype", "Treatment", "Behavior", "class"]]
    masked = mice.copy()
    rows = np.random.default_rng(1).choice(len(mice), 100, replace=False)
    masked.loc[rows, "Genotype"] = np.nan
    imp = IterativeImputation(
        categorical=tuple(masked.columns),
        numeric_estimator=LinearRegression(),
        categorical_estimator=DecisionTreeClassifier(random_state=0),
        max_iter=2,
    )
    out = imp.fit_transform(masked)
    # a mouse's class (c-CS-m, t-SC-s ...) determines its genotype: every masked one comes back
    assert out["Genotype"].tolist() == mice["Genotype"].tolist()
    assert masked["Genotype"].isna().sum() == 100  # input untouched


def test_imputation_estimator_ids():
    assert type(imputation_estimator("lightgbm", categorical=False, seed=0, n_jobs=1)).__name__ == (
        "HistGradientBoostingRegressor"
    )
    assert imputation_estimator("rf", categorical=False, seed=3, n_jobs=1).random_state == 3
    with pytest.raises(ValueError, match="categorical_iterative_imputer must be one of"):
        imputation_estimator("br", categorical=True, seed=0, n_jobs=1)


def test_group_features_hand_computed():
    df = pd.DataFrame({"a": [1.0, 4.0, 2.0], "b": [3.0, 4.0, 2.0], "c": [5.0, 1.0, 8.0], "d": 0.0})
    g = GroupFeatures({"g": ["a", "b", "c"]}).fit(df)
    out = g.transform(df)
    assert list(out.columns) == ["a", "b", "c", "d"] + [
        f"g_{s}" for s in ("min", "max", "mean", "std", "median", "mode")
    ]
    assert list(out.columns) == g.get_feature_names_out().tolist()
    np.testing.assert_allclose(out["g_mean"], [3.0, 3.0, 4.0])
    np.testing.assert_allclose(
        out["g_std"], [2.0, np.std([4, 4, 1], ddof=1), np.std([2, 2, 8], ddof=1)]
    )
    np.testing.assert_allclose(out["g_mode"], [1.0, 4.0, 2.0])  # ties: the smallest
    dropped = GroupFeatures({"g": ["a", "b"]}, drop=True).fit(df)
    assert dropped.get_feature_names_out().tolist()[:2] == ["c", "d"]
    assert list(df.columns) == ["a", "b", "c", "d"]
    with pytest.raises(ValueError, match=r"group_features\['g'\] names columns \['zz'\]"):
        GroupFeatures({"g": ["a", "zz"]}).fit(df)


def test_variance_and_correlation_filters_keep_the_kept_columns():
    X = pd.DataFrame(
        {
            "const": [1.0] * 6,
            "x": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            "x_copy": [2.0, 4.0, 6.0, 8.0, 10.0, 12.0],
            "z": [0.0, 1.0, 0.0, 1.0, 0.0, 1.0],
        }
    )
    assert VarianceFilter().fit(X).get_feature_names_out().tolist() == ["x", "x_copy", "z"]
    assert VarianceFilter(keep=("const",)).fit(X).get_feature_names_out().tolist() == [
        "const",
        "x",
        "x_copy",
        "z",
    ]
    # without keep the later of a correlated pair goes; a kept later column wins instead
    assert CorrelationFilter(0.9).fit(X[["x", "x_copy", "z"]]).keep_.tolist() == [True, False, True]
    frame = X[["x", "z"]].assign(w=X["x"] * -3.0)
    assert CorrelationFilter(0.9, keep=("w",)).fit(frame).keep_.tolist() == [False, True, True]
