"""The scoring service: answers against the model file's own predictions, input validation (422
naming the row and the column), the OpenAPI schema from the feature schema, no file access from a
request, and a real uvicorn process on a free loopback port."""

from __future__ import annotations

import hashlib
import json
import math
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("fastapi", reason="the service needs clusterlab[serve]")
from fastapi.testclient import TestClient

from clusterlab import Experiment
from clusterlab.insight import THRESHOLD, AnomalyScorer
from clusterlab.persistence import load_model
from clusterlab.serve import ServedModel, create_app, is_loopback

LEGACY = Path(__file__).parent / "data" / "legacy"
SRC = Path(__file__).resolve().parents[1] / "src"
FEATURES = ["Region", "Fresh", "Milk", "Grocery", "Frozen", "Detergents_Paper", "Delicassen"]


@pytest.fixture(scope="module")
def data(wholesale):
    """Numbers with missing values, a categorical with missing values, a boolean, and a key."""
    frame = wholesale.head(200).copy()
    frame["Region"] = frame["Region"].map({1: "Lisbon", 2: "Oporto", 3: "Other"})
    frame["Member"] = frame["Channel"] == 2
    frame.loc[frame.index[::17], "Fresh"] = np.nan
    frame.loc[frame.index[::23], "Region"] = None
    frame.insert(0, "customer_id", [f"C{i:05d}" for i in range(len(frame))])
    return frame.drop(columns="Channel")


@pytest.fixture(scope="module")
def model_file(data, tmp_path_factory):
    exp = Experiment(
        data, ignore_features=["customer_id"], normalize=True, log_transform=True,
        session_id=0, verbose=False,
    )  # fmt: skip
    model = exp.create_model("kmeans", num_clusters=3, verbose=False)
    return Path(exp.save_model(model, tmp_path_factory.mktemp("serve") / "kmeans"))


@pytest.fixture(scope="module")
def strict_file(data, tmp_path_factory):
    """A model without imputation: null is refused for every feature."""
    complete = data.dropna().drop(columns="customer_id")
    exp = Experiment(complete, imputation_type=None, session_id=0, verbose=False)
    model = exp.create_model("kmeans", num_clusters=2, verbose=False)
    return Path(exp.save_model(model, tmp_path_factory.mktemp("strict") / "kmeans"))


@pytest.fixture(scope="module")
def served(model_file):
    return ServedModel(model_file)


@pytest.fixture(scope="module")
def client(served):
    return TestClient(create_app(served, max_rows=50))


def records(frame: pd.DataFrame) -> list[dict]:
    """Rows as JSON records (missing values as null)."""
    return json.loads(frame.to_json(orient="records"))


def expected(model_file: Path, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Segments and anomaly scores computed from the file without the service."""
    loaded = load_model(model_file)
    labels = loaded.predict(frame)
    scorer = AnomalyScorer.from_record(loaded.serving["anomaly"])
    X = loaded.transform(frame).to_numpy(dtype=np.float64)
    return labels, scorer.score(X, loaded.estimator)


def post(client: TestClient, body: object) -> object:
    return client.post("/predict", json=body)


def post_raw(client: TestClient, body: bytes) -> object:
    return client.post("/predict", content=body, headers={"content-type": "application/json"})


def locs(response) -> list[list]:
    return [error["loc"] for error in response.json()["detail"]]


# ----------------------------------------------------------------------------------- answers


def test_many_rows_are_answered_as_the_model_file_predicts(client, data, model_file):
    frame = data.iloc[:40]
    response = post(client, records(frame))
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["model_id"] == "kmeans"
    labels, scores = expected(model_file, frame)
    got = answer["predictions"]
    assert [p["segment"] for p in got] == labels.tolist()
    np.testing.assert_allclose([p["anomaly_score"] for p in got], scores, rtol=1e-12)
    assert [p["is_anomaly"] for p in got] == (scores > THRESHOLD).tolist()
    described = {s["segment"]: s["description"] for s in load_model(model_file).serving["segments"]}
    assert [p["description"] for p in got] == [described[s] for s in labels.tolist()]


def test_mixed_features_take_the_frame_path_and_the_kernel_shortcut(served, data, model_file):
    """Text and boolean features need the pipeline's frame; k-means labels still come straight
    from its kernel, and every route gives the file's labels."""
    assert served._direct is None and served._labels is not None
    columns = {f.name: data[f.name].astype(object).where(data[f.name].notna(), None).tolist()
               for f in served.features}  # fmt: skip
    labels, _ = served.score(columns)
    np.testing.assert_array_equal(labels, expected(model_file, data)[0])


def test_one_object_is_one_row(client, data, model_file):
    row = records(data.iloc[[5]])[0]
    answer = post(client, row).json()["predictions"]
    labels, scores = expected(model_file, data.iloc[[5]])
    assert len(answer) == 1 and answer[0]["segment"] == labels[0]
    assert answer[0]["anomaly_score"] == pytest.approx(scores[0], rel=1e-12)


def test_nulls_the_model_fills_are_accepted_and_keys_are_ignored(client, data, model_file):
    frame = data.iloc[:3].astype({"Member": object})
    frame.loc[frame.index[0], "Fresh"] = np.nan
    frame.loc[frame.index[1], "Region"] = None
    frame.loc[frame.index[2], "Member"] = None
    rows = records(frame)
    assert rows[0]["Fresh"] is None and rows[0]["customer_id"] == "C00000"
    response = post(client, rows)
    assert response.status_code == 200, response.text
    labels, _ = expected(model_file, frame)
    assert [p["segment"] for p in response.json()["predictions"]] == labels.tolist()


def test_integers_are_numbers_and_an_unseen_category_is_scored(client, data):
    row = records(data.iloc[[0]])[0] | {"Fresh": 12000, "Region": "Madeira"}
    assert post(client, row).status_code == 200


def test_legacy_file_without_serving_record_still_serves():
    client = TestClient(create_app(LEGACY / "kmeans.clusterlab"))
    data = pd.read_csv(LEGACY / "data.csv", index_col="row")
    answer = post(client, records(data.head(10)))
    assert answer.status_code == 200, answer.text
    labels = load_model(LEGACY / "kmeans.clusterlab").predict(data.head(10))
    got = answer.json()["predictions"]
    assert [p["segment"] for p in got] == labels.tolist()
    assert all(p["description"] is None and p["anomaly_score"] is None for p in got)
    assert client.get("/model").json()["segments"] is None


# -------------------------------------------------------------------------------- bad input


def valid_row(data) -> dict:
    return records(data.iloc[[0]])[0]


def test_missing_column_names_the_row_and_the_column(client, data):
    rows = [valid_row(data), {k: v for k, v in valid_row(data).items() if k != "Milk"}]
    response = post(client, rows)
    assert response.status_code == 422
    assert locs(response) == [["body", 1, "Milk"]]
    assert response.json()["detail"][0]["type"] == "missing"


def test_extra_column_is_refused(client, data):
    response = post(client, valid_row(data) | {"Spend": 3})
    assert response.status_code == 422
    assert locs(response) == [["body", "Spend"]]
    assert response.json()["detail"][0]["type"] == "extra_forbidden"


@pytest.mark.parametrize(
    ("column", "value", "kind"),
    [
        ("Fresh", "12", "float_type"),
        ("Fresh", True, "float_type"),
        ("Fresh", [1.0], "float_type"),
        ("Region", 3, "string_type"),
        ("Member", "yes", "bool_type"),
    ],
)
def test_wrong_type_is_refused(client, data, column, value, kind):
    response = post(client, [valid_row(data), valid_row(data) | {column: value}])
    assert response.status_code == 422
    assert locs(response) == [["body", 1, column]]
    assert response.json()["detail"][0]["type"] == kind


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_are_refused(client, data, token):
    body = json.dumps(valid_row(data) | {"Milk": 0.5}).replace("0.5", token)
    response = post_raw(client, body.encode())
    assert response.status_code == 422
    assert locs(response) == [["body", "Milk"]]
    assert response.json()["detail"][0]["input"] == token


def test_values_without_a_logarithm_are_refused_where_the_model_takes_it(client, served, data):
    logged = [f.name for f in served.features if f.exclusive_minimum is not None]
    assert logged and {f.exclusive_minimum for f in served.features} <= {None, -1.0}
    name = logged[0]
    response = post(client, [valid_row(data), valid_row(data) | {name: -1}])
    assert response.status_code == 422
    assert locs(response) == [["body", 1, name]]
    assert response.json()["detail"][0]["type"] == "greater_than"
    assert post(client, valid_row(data) | {name: -0.5}).status_code == 200
    record = client.get("/openapi.json").json()["components"]["schemas"]["Record"]
    number = record["properties"][name]["anyOf"][0]
    assert number == {"type": "number", "exclusiveMinimum": -1.0}
    info = {f["name"]: f for f in client.get("/model").json()["features"]}
    assert info[name]["exclusive_minimum"] == -1.0


def test_null_is_refused_where_the_model_cannot_fill_it(strict_file, data):
    client = TestClient(create_app(strict_file))
    row = records(data.dropna().iloc[[0]].drop(columns="customer_id"))[0]
    assert post(client, row).status_code == 200
    response = post(client, row | {"Grocery": None})
    assert response.status_code == 422
    assert locs(response) == [["body", "Grocery"]]
    schema = client.get("/openapi.json").json()["components"]["schemas"]["Record"]
    assert schema["properties"]["Grocery"]["type"] == "number"


def test_too_many_rows_and_no_rows_are_refused(client, data):
    rows = records(data.iloc[:51])
    response = post(client, rows)
    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"] == "at most 50 rows per request"
    assert post(client, rows[:50]).status_code == 200
    response = post(client, [])
    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"] == "send at least one row"


@pytest.mark.parametrize("body", [b"3", b'"row"', b"null", b"", b"{", b"[1, 2]", b"\xff\xfe"])
def test_bodies_that_are_not_rows_are_refused(client, body):
    response = post_raw(client, body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][0] == "body"


def test_body_larger_than_the_limit_is_413_and_not_read(served, data):
    client = TestClient(create_app(served, max_rows=10, max_body_bytes=500))
    response = post(client, records(data.iloc[:10]))
    assert response.status_code == 413
    assert "larger than 500 bytes" in response.json()["detail"]
    health = client.get("/health").json()
    assert health["requests"] == 1 and health["rejected"] == 1


def test_max_rows_must_be_a_positive_int(served):
    with pytest.raises(ValueError, match="max_rows must be an int >= 1; got 0"):
        create_app(served, max_rows=0)


VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["Lisbon", "Oporto", "Other", "", "x"]),
    st.lists(st.integers(), max_size=2),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    changes=st.dictionaries(
        st.sampled_from([*FEATURES, "Member", "customer_id", "other"]), VALUES, max_size=3
    ),
    drop=st.sets(st.sampled_from(FEATURES), max_size=2),
)
def test_any_row_is_answered_200_or_422_as_the_schema_says(client, served, data, changes, drop):
    row = {k: v for k, v in (valid_row(data) | changes).items() if k not in drop}
    response = post_raw(client, json.dumps([row]).encode())
    types = {f.name: f for f in served.features}

    def allowed(name, value):
        if name == "customer_id":
            return True
        if name not in types:
            return False
        if value is None:
            return types[name].nullable
        kind = types[name].type
        if kind == "number":
            low = types[name].exclusive_minimum
            return (
                isinstance(value, int | float)
                and not isinstance(value, bool)
                and math.isfinite(value)
                and (low is None or value > low)
            )
        if kind == "boolean":
            return isinstance(value, bool)
        return isinstance(value, str)

    valid = not drop and all(allowed(k, v) for k, v in row.items())
    assert response.status_code == (200 if valid else 422), (row, response.text)


# ------------------------------------------------------------------------- model, health, docs


def test_model_describes_the_file(client, model_file, served, data):
    info = client.get("/model").json()
    assert info["model_id"] == "kmeans"
    assert info["file"] == {
        "name": model_file.name,
        "sha256": hashlib.sha256(model_file.read_bytes()).hexdigest(),
    }
    features = {f["name"]: f for f in info["features"]}
    assert list(features) == load_model(model_file).features
    assert "customer_id" not in features and info["ignored_columns"] == ["customer_id"]
    assert features["Fresh"]["type"] == "number" and features["Fresh"]["nullable"]
    assert features["Region"]["categories"] == sorted(data["Region"].dropna().unique())
    assert features["Member"]["type"] == "boolean"
    assert [s["segment"] for s in info["segments"]] == [0, 1, 2]
    assert info["anomaly_score"] == {"measure": "centre", "threshold": THRESHOLD}


def test_health(client, served):
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["sha256"] == served.sha256
    assert health["pid"] == os.getpid() and health["requests"] >= health["rejected"] >= 0


def test_openapi_request_schema_is_the_feature_schema(client, served):
    document = client.get("/openapi.json").json()
    record = document["components"]["schemas"]["Record"]
    assert record["additionalProperties"] is False
    assert sorted(record["required"]) == sorted(f.name for f in served.features)
    assert set(record["properties"]) == {*FEATURES, "Member", "customer_id"}
    fresh = record["properties"]["Fresh"]["anyOf"]
    assert {"type": "number", "exclusiveMinimum": -1.0} in fresh and {"type": "null"} in fresh
    body = document["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]
    array = body["schema"]["anyOf"][1]
    assert array["type"] == "array" and array["maxItems"] == 50 and array["minItems"] == 1
    answer = document["paths"]["/predict"]["post"]["responses"]["200"]
    assert answer["content"]["application/json"]["schema"]["$ref"].endswith("/PredictResponse")


def test_no_route_takes_a_path_and_the_file_is_not_read_again(model_file, data, tmp_path):
    copy = tmp_path / "model.clusterlab"
    copy.write_bytes(model_file.read_bytes())
    app = create_app(copy)
    routes = {(route.path, tuple(sorted(getattr(route, "methods", ())))) for route in app.routes}
    assert {path for path, _ in routes} == {
        "/predict", "/model", "/health", "/openapi.json", "/docs", "/docs/oauth2-redirect",
        "/redoc",
    }  # fmt: skip
    assert all("{" not in path for path, _ in routes)
    copy.unlink()
    client = TestClient(app)
    assert post(client, valid_row(data)).status_code == 200
    assert client.get("/model").json()["file"]["name"] == "model.clusterlab"


def test_a_file_that_is_not_a_model_is_refused_before_serving(tmp_path):
    bad = tmp_path / "bad.clusterlab"
    bad.write_bytes(b"not a model")
    with pytest.raises(ValueError, match=r"bad\.clusterlab"):
        ServedModel(bad)


def test_loopback():
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4")


# -------------------------------------------------------------------------- a real process


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, timeout: float = 120) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(process.stderr.read())
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError(f"no answer from {url} in {timeout} s")


def test_cli_serves_over_loopback(model_file, data):
    import httpx

    port = free_port()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]))
    process = subprocess.Popen(
        [sys.executable, "-m", "clusterlab", "serve", str(model_file), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/health", process)
        frame = data.iloc[:20]
        answer = httpx.post(f"{base}/predict", json=records(frame), timeout=30)
        assert answer.status_code == 200, answer.text
        labels, _ = expected(model_file, frame)
        assert [p["segment"] for p in answer.json()["predictions"]] == labels.tolist()
        bad = httpx.post(f"{base}/predict", json={"Milk": "x"}, timeout=30)
        assert bad.status_code == 422
        assert "server" not in {k.lower() for k in answer.headers}
        health = httpx.get(f"{base}/health", timeout=30).json()
        assert health["pid"] == process.pid and health["requests"] == 2
        assert health["rejected"] == 1
    finally:
        process.terminate()
        process.wait(timeout=30)
    err = process.stderr.read()
    assert f"http://127.0.0.1:{port}" in err


def test_cli_serve_refuses_a_missing_file_and_a_bad_port(tmp_path):
    from tests.test_cli import assert_clean_error, run_cli

    assert_clean_error(
        run_cli("serve", str(tmp_path / "none.clusterlab")), 2, "none.clusterlab: no such model"
    )
    result = run_cli("serve", str(tmp_path / "none.clusterlab"), "--port", "70000")
    assert result.returncode == 2 and "a port is between 1 and 65535; got 70000" in result.stderr


def test_run_binds_to_loopback_by_default_and_warns_otherwise(model_file, monkeypatch, caplog):
    import uvicorn

    from clusterlab import serve
    from clusterlab.serve import run

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **config: calls.append(config))
    monkeypatch.setattr(serve, "settle", lambda: None)  # no gc.freeze of the test process
    run(model_file)
    assert calls[-1]["host"] == "127.0.0.1" and calls[-1]["server_header"] is False
    assert not caplog.records
    with caplog.at_level("WARNING", logger="clusterlab.serve"):
        run(model_file, host="0.0.0.0", port=9000)
    assert calls[-1]["host"] == "0.0.0.0" and calls[-1]["port"] == 9000
    assert "reachable from other machines" in caplog.text


def test_workers_load_the_checked_file_or_refuse_to_start(model_file, data, monkeypatch, tmp_path):
    """``--workers N``: uvicorn starts the workers from an import string; each loads the file the
    parent checked, and refuses to start when it changed since."""
    import uvicorn

    from clusterlab.serve import _worker, run

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **config: calls.append((app, config)))
    for name in ("CLUSTERLAB_SERVE_MODEL", "CLUSTERLAB_SERVE_SHA256", "CLUSTERLAB_SERVE_MAX_ROWS"):
        monkeypatch.delenv(name, raising=False)
    copy = tmp_path / "model.clusterlab"
    copy.write_bytes(model_file.read_bytes())
    run(copy, workers=2, max_rows=7)
    target, config = calls[-1]
    assert target == "clusterlab.serve._worker:app"
    assert config["factory"] is True and config["workers"] == 2
    assert config["host"] == "127.0.0.1"
    monkeypatch.setattr("clusterlab.serve.settle", lambda: None)
    client = TestClient(_worker.app())
    frame = data.iloc[:3]
    answer = client.post("/predict", json=records(frame))
    labels, _ = expected(model_file, frame)
    assert [p["segment"] for p in answer.json()["predictions"]] == labels.tolist()
    assert client.post("/predict", json=records(data.iloc[:8])).status_code == 422  # max_rows
    monkeypatch.setenv("CLUSTERLAB_SERVE_SHA256", "0" * 64)  # as if the file had changed
    with pytest.raises(RuntimeError, match="changed after the service checked it"):
        _worker.app()
    with pytest.raises(ValueError, match="workers must be an int >= 1; got 0"):
        run(copy, workers=0)
