"""Every parameter of PyCaret 3's ``pycaret.clustering.setup``, with PyCaret's meaning.

Written from PyCaret's documentation (the docstring of ``setup``), on PyCaret's own data sets
(jewellery, mice: ``../shared/data/pycaret-datasets``) and the bundled wholesale data.
"""

from __future__ import annotations

import json
import logging
from dataclasses import fields, is_dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import BayesianRidge
from sklearn.preprocessing import (
    FunctionTransformer,
    KBinsDiscretizer,
    OrdinalEncoder,
    PolynomialFeatures,
    StandardScaler,
)

from clusterlab import Experiment, clustering
from clusterlab.setup_options import SetupOptions

ROOT = Path(__file__).resolve().parents[1]

#: The parameters of PyCaret 3's clustering ``setup`` (3.0 to 3.3: functional and object API),
#: and the iterative-imputation options of its supervised setups that the issue asks for.
PYCARET_SETUP = (
    "data", "data_func", "index", "ordinal_features", "numeric_features", "categorical_features",
    "date_features", "text_features", "ignore_features", "keep_features", "preprocess",
    "create_date_columns", "imputation_type", "numeric_imputation", "categorical_imputation",
    "text_features_method", "max_encoding_ohe", "encoding_method", "rare_to_value", "rare_value",
    "polynomial_features", "polynomial_degree", "low_variance_threshold", "group_features",
    "drop_groups", "remove_multicollinearity", "multicollinearity_threshold",
    "bin_numeric_features", "remove_outliers", "outliers_method", "outliers_threshold",
    "transformation", "transformation_method", "normalize", "normalize_method", "pca",
    "pca_method", "pca_components", "custom_pipeline", "custom_pipeline_position", "n_jobs",
    "use_gpu", "html", "session_id", "system_log", "log_experiment", "experiment_name",
    "experiment_custom_tags", "log_plots", "log_profile", "log_data", "silent", "verbose",
    "memory", "profile", "profile_kwargs", "engines",
    "iterative_imputation_iters", "numeric_iterative_imputer", "categorical_iterative_imputer",
)  # fmt: skip


def shared_file(name: str) -> Path:
    """A file of PyCaret's data sets in ../shared/data (beside the repository or a worktree)."""
    for base in (ROOT.parent, ROOT.parent.parent):
        path = base / "shared" / "data" / "pycaret-datasets" / name
        if path.is_file():
            return path
    pytest.skip("PyCaret's data sets not found beside the repository (../shared/data)")


@pytest.fixture(scope="module")
def jewellery():
    from clusterlab.io import read_table

    return read_table(shared_file("jewellery.csv"))


@pytest.fixture(scope="module")
def mice():
    from clusterlab.io import read_table

    return read_table(shared_file("mice.csv"))


@pytest.fixture(scope="module")
def mice_small(mice):
    """MouseID, ten proteins (with their missing values) and the four categorical columns."""
    proteins = [c for c in mice.columns if c.endswith("_N")][:10]
    return mice[["MouseID", *proteins, "Genotype", "Treatment", "Behavior", "class"]]


@pytest.fixture(scope="module")
def mice_notes(mice_small):
    """mice_small with a sentence per mouse made of its own columns, and a recording date."""
    notes = (
        mice_small["Genotype"] + " mouse given " + mice_small["Treatment"] + " in "
        + mice_small["Behavior"]
    )  # fmt: skip
    dates = pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(len(mice_small)) // 9, "D")
    return mice_small.assign(note=notes, recorded=dates.strftime("%Y-%m-%d"))


def _setup(data, **options):
    return Experiment(data, verbose=False, session_id=0, **options)


# --------------------------------------------------------------------------------------------
# Every parameter is accepted
# --------------------------------------------------------------------------------------------


def test_every_pycaret_setup_parameter_is_an_option():
    missing = set(PYCARET_SETUP) - set(SetupOptions.names()) - {"data"}
    assert not missing


#: A quick numeric iterative imputer (the default, 'lightgbm', is tested once, on fewer rows)
BR = {"numeric_iterative_imputer": "br"}

#: (parameter, a valid value other than the default, data set, options it needs)
CALLS = [
    ("index", "MouseID", "mice_small", {}),
    ("ordinal_features", {"Behavior": ["C/S", "S/C"]}, "mice_small", {}),
    ("numeric_features", ["Region"], "wholesale", {}),
    ("categorical_features", ["Region"], "wholesale", {}),
    ("date_features", ["recorded"], "mice_notes", {}),
    ("text_features", ["note"], "mice_notes", {}),
    ("ignore_features", ["Savings"], "jewellery", {}),
    ("keep_features", ["MouseID"], "mice_small", {}),
    ("preprocess", False, "jewellery", {}),
    ("create_date_columns", ["day", "month", "year"], "mice_notes", {}),
    ("imputation_type", "iterative", "mice_small", {"numeric_iterative_imputer": "br"}),
    ("numeric_imputation", "median", "mice_small", {}),
    ("categorical_imputation", "constant", "mice_small", {}),
    ("iterative_imputation_iters", 2, "mice_small", {"imputation_type": "iterative", **BR}),
    ("numeric_iterative_imputer", "lr", "mice_small", {"imputation_type": "iterative"}),
    ("categorical_iterative_imputer", "dt", "mice_small", {"imputation_type": "iterative", **BR}),
    ("text_features_method", "bow", "mice_notes", {"text_features": ["note"]}),
    ("max_encoding_ohe", -1, "mice_small", {}),
    ("encoding_method", None, "mice_small", {}),
    ("rare_to_value", 0.13, "mice_small", {}),
    ("rare_value", "other", "mice_small", {"rare_to_value": 0.13}),
    ("polynomial_features", True, "jewellery", {}),
    ("polynomial_degree", 3, "jewellery", {"polynomial_features": True}),
    ("low_variance_threshold", 0.0, "jewellery", {}),
    ("group_features", {"money": ["Income", "Savings"]}, "jewellery", {}),
    ("drop_groups", True, "jewellery", {"group_features": {"money": ["Income", "Savings"]}}),
    ("remove_multicollinearity", True, "mice_small", {}),
    ("multicollinearity_threshold", 0.8, "mice_small", {"remove_multicollinearity": True}),
    ("bin_numeric_features", ["Age"], "jewellery", {}),
    ("remove_outliers", True, "jewellery", {}),
    ("outliers_method", "ee", "jewellery", {"remove_outliers": True}),
    ("outliers_threshold", 0.1, "jewellery", {"remove_outliers": True}),
    ("transformation", True, "jewellery", {}),
    ("transformation_method", "quantile", "jewellery", {"transformation": True}),
    ("normalize", True, "jewellery", {}),
    ("normalize_method", "minmax", "jewellery", {"normalize": True}),
    ("pca", True, "jewellery", {}),
    ("pca_method", "kernel", "jewellery", {"pca": True, "pca_components": 2}),
    ("pca_components", "mle", "jewellery", {"pca": True}),
    ("custom_pipeline", [("scale", StandardScaler())], "jewellery", {}),
    ("custom_pipeline_position", 0, "jewellery", {"custom_pipeline": StandardScaler()}),
    ("n_jobs", 1, "wholesale", {}),
    ("use_gpu", True, "jewellery", {}),
    ("html", False, "jewellery", {}),
    ("session_id", 123, "jewellery", {}),
    ("system_log", False, "jewellery", {}),
    ("log_experiment", True, "jewellery", {}),
    ("experiment_name", "jewellery segments", "jewellery", {}),
    ("experiment_custom_tags", {"tag": 1}, "jewellery", {}),
    ("log_plots", True, "jewellery", {}),
    ("log_profile", True, "jewellery", {}),
    ("log_data", True, "jewellery", {}),
    ("silent", True, "jewellery", {}),
    ("verbose", False, "jewellery", {}),
    ("memory", False, "jewellery", {}),
    ("profile", True, "jewellery", {}),
    ("profile_kwargs", {"minimal": True}, "jewellery", {}),
    ("engines", {"kmeans": "sklearn"}, "jewellery", {}),
]


def test_calls_cover_every_parameter():
    covered = {name for name, *_ in CALLS} | {"data", "data_func"}
    assert covered == set(PYCARET_SETUP)


@pytest.mark.parametrize("call", CALLS, ids=[c[0] for c in CALLS])
def test_parameter_called_once(request, call, caplog):
    name, value, dataset, extra = call
    data = request.getfixturevalue(dataset)
    options = {"session_id": 0, "verbose": False, **extra, name: value}
    with caplog.at_level(logging.WARNING, logger="clusterlab"):
        exp = clustering.setup(data, **options)
    assert clustering.get_experiment() is exp
    X = exp.get_config("X_all")
    assert len(X) == len(data) and X.shape[1] >= 1
    assert np.isfinite(X.to_numpy()).all()
    # the experiment keeps the option as given (parsed)
    assert _option(exp.options, name) == _option(SetupOptions.parse(**options), name)


def _option(options: SetupOptions, name: str):
    if name in ("session_id", "sample_size", "verbose"):
        return getattr(options, name)
    groups = [getattr(options, f.name) for f in fields(options) if is_dataclass(f.type) or
              is_dataclass(getattr(options, f.name))]  # fmt: skip
    return next(getattr(g, name) for g in groups if name in {f.name for f in fields(g)})


def test_data_func_is_called_once_and_replaces_data(jewellery):
    calls = []

    def load():
        calls.append(1)
        return jewellery

    exp = Experiment(data_func=load, verbose=False, normalize=True)
    assert calls == [1]
    pd.testing.assert_frame_equal(exp.get_config("X_all"), _setup(jewellery, normalize=True).X_all_)
    assert clustering.setup(data_func=load, verbose=False).data_.shape == (505, 4)
    assert calls == [1, 1]
    with pytest.raises(ValueError, match="exactly one of data and data_func; got both"):
        Experiment(jewellery, data_func=load, verbose=False)
    with pytest.raises(ValueError, match="data_func returned None"):
        Experiment(data_func=lambda: None, verbose=False)
    with pytest.raises(TypeError, match="data_func must be a function"):
        Experiment(data_func=jewellery, verbose=False)


# --------------------------------------------------------------------------------------------
# What the options that change the result do
# --------------------------------------------------------------------------------------------


def test_index(mice_small, jewellery):
    by_name = _setup(mice_small, index="MouseID")
    assert by_name.X_all_.index.tolist() == mice_small["MouseID"].tolist()
    assert by_name.X_all_.index.name == "MouseID"
    assert "MouseID" not in by_name.data_.columns and "MouseID" in mice_small.columns
    by_position = _setup(mice_small, index=0)
    pd.testing.assert_frame_equal(by_position.X_all_, by_name.X_all_)
    labels = [f"customer {i}" for i in range(len(jewellery))]
    assert _setup(jewellery, index=labels).X_all_.index.tolist() == labels
    shifted = jewellery.set_axis(jewellery.index + 1000)
    assert _setup(shifted).X_all_.index[0] == 1000  # True (default): the data's own index
    assert _setup(shifted, index=False).X_all_.index.tolist() == list(range(505))
    with pytest.raises(ValueError, match=r"index names column 'Mouse', .*did you mean 'MouseID'"):
        _setup(mice_small, index="Mouse")
    with pytest.raises(ValueError, match="index must hold distinct row labels; repeated"):
        _setup(mice_small, index="Genotype")
    with pytest.raises(ValueError, match=r"one label per row \(505\); got 3"):
        _setup(jewellery, index=[1, 2, 3])
    with pytest.raises(ValueError, match=r"column position in \[-4, 3\]; got 4"):
        _setup(jewellery, index=4)
    with pytest.raises(TypeError, match="index must be True, False, a column name"):
        _setup(jewellery, index=1.5)


def test_keep_features_survives_inference_and_selection(mice_small):
    plain = _setup(mice_small, remove_multicollinearity=True, multicollinearity_threshold=0.7)
    dropped = [c for c in mice_small.columns[1:11] if c not in plain.X_.columns]
    assert dropped, "the 10 proteins hold correlated pairs"
    assert "MouseID" not in plain.get_config("pipeline").feature_names_in_
    kept = _setup(
        mice_small,
        keep_features=[dropped[0], "MouseID"],
        remove_multicollinearity=True,
        multicollinearity_threshold=0.7,
        low_variance_threshold=1e6,
    )
    # MouseID (an id: one value per row) is a feature now; the kept protein survives both filters
    assert kept.get_config("schema").loc["MouseID", "kind"] == "categorical"
    assert {dropped[0], "MouseID"} <= set(kept.X_.columns)
    others = [c for c in kept.X_.columns if c not in (dropped[0], "MouseID")]
    assert not others  # a variance threshold of 1e6 drops every column not kept
    with pytest.raises(ValueError, match=r"columns \['Genotype'\] are in both keep_features"):
        _setup(mice_small, keep_features=["Genotype"], ignore_features=["Genotype"])


def test_preprocess_false_passes_features_as_they_are(jewellery, mice_small):
    exp = _setup(jewellery, preprocess=False, normalize=True, pca=True)
    np.testing.assert_array_equal(exp.X_.to_numpy(), jewellery.to_numpy(dtype=float))
    assert [name for name, _ in exp.get_config("pipeline").steps] == ["columns"]
    custom = _setup(jewellery, preprocess=False, custom_pipeline=StandardScaler())
    np.testing.assert_allclose(custom.X_.to_numpy(), StandardScaler().fit_transform(jewellery))
    with pytest.raises(ValueError, match=r"have missing values, and preprocess=False fills none"):
        _setup(mice_small, preprocess=False)
    with pytest.raises(ValueError, match=r"columns \['Genotype'.*are not numeric"):
        _setup(mice_small.dropna(), preprocess=False)


def test_imputation_types(mice_small):
    with pytest.raises(ValueError, match=r"have missing values, and imputation_type=None fills"):
        _setup(mice_small, imputation_type=None)
    complete = mice_small.dropna()
    none = _setup(complete, imputation_type=None)
    pd.testing.assert_frame_equal(none.X_, _setup(complete).X_)
    exp = _setup(
        mice_small,
        index="MouseID",
        imputation_type="iterative",
        numeric_iterative_imputer="br",
        iterative_imputation_iters=3,
    )
    step = exp.get_config("pipeline").named_steps["iterative_imputer"]
    assert step.max_iter == 3 and type(step.numeric_estimator).__name__ == "BayesianRidge"
    proteins = list(mice_small.columns[1:11])
    observed = mice_small[proteins].notna().to_numpy()
    prepared = exp.X_all_[proteins].to_numpy()
    # observed values pass unchanged (no scaling asked); the others are filled
    np.testing.assert_array_equal(prepared[observed], mice_small[proteins].to_numpy()[observed])
    assert np.isfinite(prepared).all()
    simple = _setup(mice_small, index="MouseID").X_all_[proteins].to_numpy()
    assert not np.allclose(prepared[~observed], simple[~observed])  # not the column means
    with pytest.raises(ValueError, match="imputation_type must be one of"):
        _setup(mice_small, imputation_type="knn")
    # the default estimators, PyCaret's 'lightgbm': scikit-learn's histogram gradient boosting
    few = mice_small.loc[mice_small.isna().any(axis=1) | (mice_small.index < 100)]
    default = _setup(few, imputation_type="iterative", iterative_imputation_iters=1)
    step = default.get_config("pipeline").named_steps["iterative_imputer"]
    assert {type(e).__name__ for _, e in step.sequence_} == {"HistGradientBoostingRegressor"}
    assert np.isfinite(default.X_all_.to_numpy()).all()


def test_rare_categories_grouped(mice_small):
    counts = mice_small["class"].value_counts()
    threshold = 0.13
    common = sorted(c for c, k in counts.items() if k >= threshold * len(mice_small))
    exp = _setup(mice_small, rare_to_value=threshold, rare_value="other", max_encoding_ohe=-1)
    got = sorted(c for c in exp.X_.columns if c.startswith("class_"))
    assert got == sorted([f"class_{c}" for c in common] + ["class_other"])
    rare = ~mice_small["class"].isin(common)
    assert (exp.X_.loc[rare, "class_other"] == 1).all() and (
        exp.X_.loc[~rare, "class_other"] == 0
    ).all()
    with pytest.raises(ValueError, match=r"rare_to_value must be None or a fraction in \(0, 1\)"):
        _setup(mice_small, rare_to_value=1.5)


def test_rare_categories_of_integer_codes(wholesale):
    # Region holds integers 1-3; Oporto (2) is 47 of 440 rows
    exp = _setup(wholesale, categorical_features=["Region"], rare_to_value=0.15)
    region = sorted(c for c in exp.X_.columns if c.startswith("Region_"))
    assert region == ["Region_1", "Region_3", "Region_rare"]
    assert exp.X_["Region_rare"].sum() == (wholesale["Region"] == 2).sum()
    constant = _setup(
        wholesale.assign(Region=wholesale["Region"].where(wholesale.index % 10 > 0)),
        categorical_features=["Region"],
        categorical_imputation="constant",
    )
    assert constant.X_["Region_not_available"].sum() == 44


def test_polynomial_features(jewellery):
    exp = _setup(jewellery, polynomial_features=True)
    # 4 numeric columns, degree 2: 4 + 4 squares + 6 products, no constant column
    assert exp.X_.shape == (505, 14)
    ref = PolynomialFeatures(2, include_bias=False).fit(jewellery)
    assert set(exp.X_.columns) == set(ref.get_feature_names_out())
    np.testing.assert_allclose(exp.X_["Age Income"], jewellery["Age"] * jewellery["Income"])
    assert _setup(jewellery, polynomial_features=True, polynomial_degree=3).X_.shape[1] == 34
    assert _setup(jewellery, polynomial_degree=3).X_.shape[1] == 4  # ignored unless asked for


def test_bin_numeric_features(jewellery):
    exp = _setup(jewellery, bin_numeric_features=["Age", "Income"])
    n_bins = [min(10, jewellery[c].nunique()) for c in ("Age", "Income")]  # Sturges: 10 for 505
    ref = KBinsDiscretizer(n_bins=n_bins, encode="ordinal", strategy="kmeans")
    expected = ref.fit_transform(jewellery[["Age", "Income"]])
    np.testing.assert_array_equal(exp.X_[["Age", "Income"]].to_numpy(), expected)
    assert exp.X_["Age"].nunique() == n_bins[0]
    np.testing.assert_array_equal(exp.X_["Savings"], jewellery["Savings"])
    with pytest.raises(
        ValueError, match="bin_numeric_features column 'Genotype' must be a numeric"
    ):
        _setup(pd.DataFrame({"Genotype": ["a", "b"] * 20, "x": np.arange(40.0)}),
               bin_numeric_features=["Genotype"])  # fmt: skip


def test_group_features(jewellery):
    exp = _setup(jewellery, group_features={"money": ["Income", "Savings"]}, drop_groups=True)
    assert "Income" not in exp.X_.columns and "Age" in exp.X_.columns
    np.testing.assert_allclose(
        exp.X_["money_mean"], (jewellery["Income"] + jewellery["Savings"]) / 2
    )
    np.testing.assert_allclose(exp.X_["money_max"], jewellery[["Income", "Savings"]].max(axis=1))


def test_custom_pipeline_position(jewellery):
    def square():
        return FunctionTransformer(np.square, feature_names_out="one-to-one")

    raw = jewellery.to_numpy(dtype=float)
    last = _setup(jewellery, normalize=True, custom_pipeline=[("square", square())])
    assert [n for n, _ in last.get_config("pipeline").steps] == ["columns", "normalize", "square"]
    np.testing.assert_allclose(last.X_.to_numpy(), StandardScaler().fit_transform(raw) ** 2)
    for position in (0, -3):
        first = _setup(
            jewellery, normalize=True, custom_pipeline=square(), custom_pipeline_position=position
        )
        assert first.get_config("pipeline").steps[0][0] == "functiontransformer"
        np.testing.assert_allclose(first.X_.to_numpy(), StandardScaler().fit_transform(raw**2))
    middle = _setup(
        jewellery, normalize=True, custom_pipeline=("sq", square()), custom_pipeline_position=-2
    )
    assert [n for n, _ in middle.get_config("pipeline").steps] == ["columns", "sq", "normalize"]
    given = StandardScaler()
    _setup(jewellery, custom_pipeline={"scale": given})
    assert not hasattr(given, "mean_")  # the object given is cloned, never fitted
    with pytest.raises(ValueError, match=r"custom_pipeline_position must be in \[-3, 2\]"):
        _setup(jewellery, normalize=True, custom_pipeline=square(), custom_pipeline_position=5)
    with pytest.raises(ValueError, match=r"names \['normalize'\] are taken by setup's own steps"):
        _setup(jewellery, normalize=True, custom_pipeline=("normalize", square()))
    with pytest.raises(TypeError, match="custom_pipeline step 'x' must have fit and transform"):
        _setup(jewellery, custom_pipeline=[("x", 3)])


def test_text_features_by_tfidf(mice_notes):
    from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

    exp = _setup(mice_notes, text_features=["note"])
    ref = TfidfVectorizer().fit(mice_notes["note"])
    names = [f"note_{t}" for t in ref.get_feature_names_out()]
    assert [c for c in exp.X_.columns if c.startswith("note_")] == names
    np.testing.assert_allclose(
        exp.X_[names].to_numpy(), ref.transform(mice_notes["note"]).toarray()
    )
    bow = _setup(mice_notes, text_features=["note"], text_features_method="bow")
    counts = CountVectorizer().fit_transform(mice_notes["note"]).toarray()
    np.testing.assert_array_equal(bow.X_[names].to_numpy(), counts)
    # free text not named in text_features is not a feature
    assert not any(c.startswith("note") for c in _setup(mice_notes).X_.columns)
    capped = _setup(
        mice_notes, text_features=["note"], text_features_method=CountVectorizer(max_features=3)
    )
    assert sum(c.startswith("note_") for c in capped.X_.columns) == 3


def test_encoding_method(mice_small):
    default = _setup(mice_small)
    pd.testing.assert_frame_equal(_setup(mice_small, encoding_method=None).X_, default.X_)
    pd.testing.assert_frame_equal(_setup(mice_small, encoding_method="onehot").X_, default.X_)
    # PyCaret's meaning of an encoder object: it encodes the columns with many categories
    exp = _setup(mice_small, max_encoding_ohe=2, encoding_method=OrdinalEncoder())
    assert exp.X_["class"].nunique() == 8 and "Genotype_Control" in exp.X_.columns
    always = _setup(mice_small, max_encoding_ohe=-1)
    assert sum(c.startswith("class_") for c in always.X_.columns) == 8


def test_n_jobs_reaches_models(wholesale, monkeypatch):
    import numba

    from clusterlab.workflow import fitting

    exp = _setup(wholesale, n_jobs=1)
    monkeypatch.setattr(fitting, "SMALL_DATA", 0)  # treat the data as large
    with fitting.threads_for(exp._state()):
        assert numba.get_num_threads() == 1
    assert _setup(wholesale, n_jobs=None).options.runtime.threads == 1  # PyCaret: one processor
    with pytest.raises(ValueError, match="n_jobs must be None or a nonzero int"):
        _setup(wholesale, n_jobs=0)


def test_memory_caches_only_where_asked(jewellery, tmp_path, monkeypatch):
    import tempfile

    from joblib import Memory

    work, tmp, cache = tmp_path / "work", tmp_path / "tmp", tmp_path / "cache"
    for folder in (work, tmp):
        folder.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    plain = _setup(jewellery, normalize=True, memory=True)  # PyCaret's default: no cache here
    cached = _setup(jewellery, normalize=True, memory=str(cache))
    pd.testing.assert_frame_equal(cached.X_, plain.X_)
    files = sorted(p for p in cache.rglob("*") if p.is_file())
    assert files, "the fitted columns step is cached in the directory given"
    _setup(jewellery, normalize=True, memory=Memory(str(cache), verbose=0))
    assert sorted(p for p in cache.rglob("*") if p.is_file()) == files  # a cache hit
    assert cached.get_config("pipeline").memory == str(cache)
    assert not list(work.iterdir()) and not list(tmp.iterdir())  # nothing written elsewhere
    with pytest.raises(TypeError, match="memory must be True, False, a directory path"):
        _setup(jewellery, memory=3)


def test_pycaret_only_options_log_once_and_write_nothing(jewellery, tmp_path, monkeypatch, caplog):
    monkeypatch.chdir(tmp_path)
    with caplog.at_level(logging.DEBUG, logger="clusterlab"):
        clustering.setup(
            jewellery,
            normalize=True,
            log_experiment=True,
            experiment_name="jewellery",
            experiment_custom_tags={"tag": 1},
            log_plots=True,
            log_profile=True,
            log_data=True,
            html=False,
            system_log=str(tmp_path / "logs.log"),
            profile=True,
            profile_kwargs={"minimal": True},
            use_gpu=True,
            session_id=123,
            n_jobs=1,
            verbose=False,
        )
    lines = [r.getMessage() for r in caplog.records if "experiment logger" in r.getMessage()]
    assert len(lines) == 1 and "\n" not in lines[0]
    assert not list(tmp_path.iterdir())
    with pytest.raises(ValueError, match="use_gpu='force' asks for GPU models only"):
        _setup(jewellery, use_gpu="force")


def test_engines_shape_is_checked(jewellery):
    exp = _setup(jewellery, engines={"kmeans": "sklearn", "dbscan": "clusterlab"})
    assert exp.options.runtime.engines == {"kmeans": "sklearn", "dbscan": "clusterlab"}
    with pytest.raises(TypeError, match="engines must be None or a dict"):
        _setup(jewellery, engines=["kmeans"])
    with pytest.raises(TypeError, match=r"engines must map model ids \(str\) to engine names"):
        _setup(jewellery, engines={"kmeans": 1})


def test_other_pycaret_values(jewellery, mice_notes):
    assert _setup(jewellery, pca=True, pca_components="mle").X_.shape[1] < 4
    from sklearn.covariance import EllipticEnvelope

    ee = EllipticEnvelope(contamination=0.05, random_state=0).fit(jewellery.to_numpy(float))
    inliers = ee.predict(jewellery.to_numpy(float)) == 1
    exp = _setup(jewellery, remove_outliers=True, outliers_method="ee")
    np.testing.assert_array_equal(exp.get_config("train_mask"), inliers)
    zero = _setup(mice_notes, numeric_imputation="zero", index="MouseID")
    protein = mice_notes.columns[1]
    assert (zero.X_all_.loc[mice_notes[protein].isna().to_numpy(), protein] == 0).all()
    dated = _setup(mice_notes, create_date_columns=["day", "month", "year", "quarter"])
    assert {"recorded_day", "recorded_quarter"} <= set(dated.X_.columns)
    with pytest.raises(ValueError, match="create_date_columns item must be one of"):
        _setup(mice_notes, create_date_columns=["fortnight"])


# --------------------------------------------------------------------------------------------
# Options as plain data, and saved experiments
# --------------------------------------------------------------------------------------------


def test_options_record_is_plain_and_parses_again(jewellery, tmp_path):
    from joblib import Memory

    opts = SetupOptions.parse(
        data_func=lambda: jewellery,
        index=list(range(505)),
        custom_pipeline=StandardScaler(),
        memory=Memory(tmp_path, verbose=0),
        encoding_method=OrdinalEncoder(),
        numeric_iterative_imputer=BayesianRidge(),
        system_log=logging.getLogger("x"),
        log_experiment=["mlflow"],
        experiment_custom_tags={"tag": 1},
        engines={"kmeans": "sklearn"},
        ordinal_features={"size": ["S", "M", "L"]},
        group_features={"money": ["Income", "Savings"]},
        rare_to_value=np.float64(0.1),
        normalize=True,
    )
    record = json.loads(json.dumps(opts.to_record()))
    again = SetupOptions.parse(**record)
    assert record["memory"] == str(tmp_path) and record["custom_pipeline"] is None
    assert again.to_record() == record
    assert again.scaling.normalize and again.encoding.rare_to_value == 0.1
    assert again.runtime.engines == {"kmeans": "sklearn"} and again.compat.logs_experiment


def test_saved_experiment_with_new_steps_round_trips(mice_notes, tmp_path):
    options = dict(
        text_features=["note"],
        rare_to_value=0.13,
        imputation_type="iterative",
        numeric_iterative_imputer="br",
        keep_features=["class"],
        low_variance_threshold=0.0,
        polynomial_features=True,
        bin_numeric_features=[mice_notes.columns[2]],
        group_features={"g": list(mice_notes.columns[3:6])},
        normalize=True,
    )
    exp = _setup(mice_notes, **options)
    path = exp.save_experiment(tmp_path / "exp")
    back = Experiment.load_experiment(path, mice_notes)
    pd.testing.assert_frame_equal(back.X_all_, exp.X_all_)
