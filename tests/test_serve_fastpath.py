"""The numpy stand-in for numeric preprocessing pipelines gives scikit-learn's numbers exactly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    MaxAbsScaler,
    MinMaxScaler,
    OneHotEncoder,
    RobustScaler,
    StandardScaler,
)

from clusterlab.serve.fastpath import compile_pipeline

SCALERS = [
    StandardScaler(),
    StandardScaler(with_mean=False),
    MinMaxScaler(),
    MinMaxScaler(feature_range=(-1, 1), clip=True),
    MaxAbsScaler(),
    RobustScaler(),
    RobustScaler(with_centering=False),
    "passthrough",
]


@pytest.fixture(scope="module")
def frame(wholesale):
    data = wholesale.drop(columns=["Channel", "Region"]).astype(float)
    data.iloc[::7, 0] = np.nan
    data.iloc[::11, 3] = np.nan
    return data


def pipeline(scaler, strategy="mean"):
    log = make_pipeline(
        SimpleImputer(strategy=strategy),
        FunctionTransformer(np.log1p, feature_names_out="one-to-one"),
    )
    columns = ColumnTransformer(
        [
            ("plain", SimpleImputer(strategy=strategy), ["Fresh", "Milk"]),
            ("log", log, ["Grocery", "Frozen", "Detergents_Paper"]),
            ("drop", "drop", ["Delicassen"]),
        ],
        verbose_feature_names_out=False,
    )
    return make_pipeline(columns, scaler).set_output(transform="pandas")


@pytest.mark.parametrize("scaler", SCALERS, ids=str)
@pytest.mark.parametrize("strategy", ["mean", "median", "most_frequent"])
def test_compiled_pipeline_gives_the_pipelines_numbers(frame, scaler, strategy):
    fitted = pipeline(scaler, strategy).fit(frame.iloc[:300])
    compiled = compile_pipeline(fitted)
    assert compiled is not None
    new = frame.iloc[300:]
    np.testing.assert_array_equal(compiled(new), fitted.transform(new).to_numpy())
    assert compiled(new.iloc[[5]]).shape == (1, 5)


def test_inputs_are_not_modified(frame):
    fitted = pipeline(StandardScaler()).fit(frame)
    before = frame.copy()
    compile_pipeline(fitted)(frame)
    pd.testing.assert_frame_equal(frame, before)


def test_unknown_steps_are_not_compiled(frame):
    data = frame.assign(kind=np.where(frame["Milk"] > 5000, "big", "small"))
    columns = ColumnTransformer(
        [("num", SimpleImputer(), ["Fresh"]), ("cat", OneHotEncoder(), ["kind"])]
    )
    assert compile_pipeline(make_pipeline(columns, StandardScaler()).fit(data)) is None
    with_remainder = ColumnTransformer(
        [("num", SimpleImputer(), ["Fresh"])], remainder="passthrough"
    )
    assert compile_pipeline(with_remainder.fit(frame)) is None
    indicator = ColumnTransformer([("num", SimpleImputer(add_indicator=True), ["Fresh"])])
    assert compile_pipeline(indicator.fit(frame)) is None
    assert compile_pipeline(make_pipeline(StandardScaler()).fit(frame)) is None


def test_a_served_numeric_model_uses_it_and_predicts_as_the_file(frame, tmp_path):
    from clusterlab import Experiment
    from clusterlab.persistence import load_model
    from clusterlab.serve import ServedModel

    exp = Experiment(frame, log_transform=True, normalize=True, session_id=0, verbose=False)
    path = exp.save_model(exp.create_model("kmeans", num_clusters=3, verbose=False), tmp_path / "m")
    served = ServedModel(path)
    assert served._transform.__module__ == "clusterlab.serve.fastpath"
    columns = {c: frame[c].where(frame[c].notna(), None).tolist() for c in frame.columns}
    labels, scores = served.predict(served.frame(columns))
    np.testing.assert_array_equal(labels, load_model(path).predict(frame))
    # a request's columns go to the compiled pipeline and the kernel directly, with the same
    # numbers; one row at a time too
    assert served._direct is not None and served._labels is not None
    direct, direct_scores = served.score(columns)
    np.testing.assert_array_equal(direct, labels)
    np.testing.assert_array_equal(direct_scores, scores)
    one = {c: values[:1] for c, values in columns.items()}
    assert served.score(one)[0].tolist() == labels[:1].tolist()
    with pytest.raises(TypeError, match="must be float64; got int64"):
        served._direct({c: np.arange(2) for c in frame.columns})
