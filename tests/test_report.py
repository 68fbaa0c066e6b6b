"""The HTML report: valid, complete, self-contained, atomic, and it renders in a browser."""

from __future__ import annotations

import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import DBSCAN, KMeans
from sklearn.preprocessing import StandardScaler

from clusterlab.report import write_report

SECTIONS = [
    "data",
    "preprocessing",
    "leaderboard",
    "k_selection",
    "model",
    "segments",
    "plots",
    "anomalies",
    "reproduce",
]
VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}


class _Checker(HTMLParser):
    """Collects ids and references and checks that every element is closed in order."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.ids: list[str] = []
        self.refs: list[tuple[str, str, str]] = []
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for name, value in attrs:
            if name == "id":
                self.ids.append(value)
            if name in ("src", "href", "action", "poster", "srcset"):
                self.refs.append((tag, name, value or ""))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
            return
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def _parse(path: Path) -> _Checker:
    checker = _Checker()
    checker.feed(path.read_text(encoding="utf-8"))
    checker.close()
    return checker


@pytest.fixture(scope="module")
def wholesale_run():
    from clusterlab.datasets import load_wholesale_customers

    raw = load_wholesale_customers()
    data = raw.assign(
        Channel=raw["Channel"].map({1: "Horeca", 2: "Retail"}),
        Region=raw["Region"].map({1: "Lisbon", 2: "Oporto", 3: "Other"}),
    )
    spend = raw.drop(columns=["Channel", "Region"])
    X = pd.DataFrame(StandardScaler().fit_transform(np.log1p(spend)), columns=spend.columns)
    model = KMeans(4, n_init=3, random_state=0).fit(X)
    return data, X, model


@pytest.fixture(scope="module")
def full_report(wholesale_run, tmp_path_factory):
    data, X, model = wholesale_run
    scores = pd.DataFrame(
        {"silhouette": [0.25, 0.2, 0.19, 0.18], "davies_bouldin": [1.5, 1.6, 1.4, 1.7]},
        index=pd.Index([2, 3, 4, 5], name="k"),
    )
    leaderboard = pd.DataFrame(
        {
            "Model": ["Gaussian Mixture", "K-Means"],
            "Silhouette": [0.2, 0.19],
            "TT (Sec)": [0.3, 0.1],
        },
        index=pd.Index(["gmm", "kmeans"], name="id"),
    )
    path = tmp_path_factory.mktemp("report") / "wholesale.html"
    written = write_report(
        path,
        data=data,
        labels=model.labels_,
        X_prepared=X,
        model=model,
        leaderboard=leaderboard,
        metrics={"silhouette": 0.19, "davies_bouldin": 1.4},
        schema=pd.DataFrame(
            {
                "kind": ["categorical", "numeric", "ignored"],
                "reason": ["2 distinct codes", "float values", "set by the user"],
            },
            index=pd.Index(["Channel", "Fresh", "CustomerID"], name="column"),
        ),
        preprocessing_steps=[("log1p", "spending"), "standard scaling"],
        k_selection=(scores, 4),
        title="Wholesale customers",
        params={"session_id": 123},
        chosen="kmeans",
    )
    assert written == path
    return path, model


def test_valid_html_with_every_section(full_report):
    path, _ = full_report
    checker = _parse(path)
    assert checker.errors == []
    assert checker.stack == []
    assert checker.tags[0] == "html"
    for section in SECTIONS:
        assert section in checker.ids, section
    assert len(set(checker.ids)) == len(checker.ids)
    # the navigation links to each section, and only to sections that exist
    links = [v for tag, name, v in checker.refs if tag == "a"]
    assert links == [f"#{s}" for s in SECTIONS]


def test_nothing_external(full_report):
    path, _ = full_report
    text = path.read_text(encoding="utf-8")
    assert "http:" not in text
    assert "https:" not in text
    assert "url(" not in text
    assert "@import" not in text
    checker = _parse(path)
    for tag, _attribute, value in checker.refs:
        assert not value.startswith("//"), (tag, value)
        assert value.startswith(("data:image/png;base64,", "#")), (tag, value[:40])
    assert "script" not in checker.tags
    assert "link" not in checker.tags
    assert sum(1 for t in checker.tags if t == "img") >= 7  # k, heatmap, 5 plots


def test_size_under_three_megabytes(full_report):
    path, _ = full_report
    assert path.stat().st_size < 3 * 2**20


def test_content(full_report, wholesale_run):
    from clusterlab.insight import describe_segments, profile_segments

    path, model = full_report
    data = wholesale_run[0]
    text = " ".join(_parse(path).text)
    for description in profile_segments(data, model.labels_).descriptions.values():
        assert description in text
    first_rule = describe_segments(data, model.labels_).rules.iloc[0]
    assert first_rule["rule"] in text
    assert "Wholesale customers" in text
    assert "2 distinct codes" in text and "CustomerID" in text
    assert "log1p" in text and "standard scaling" in text
    assert "Chosen k = 4" in text
    assert "session_id" in text and "scikit-learn" in text
    html = path.read_text(encoding="utf-8")
    assert html.count('class="highlight"') == 1
    assert '<tr class="highlight"><td>kmeans</td>' in html


def test_missing_inputs_leave_sections_out(wholesale_run, tmp_path):
    data, X, model = wholesale_run
    path = write_report(
        tmp_path / "minimal.html",
        data=data,
        labels=model.labels_,
        X_prepared=X,
        model=model,
        plots=["distribution"],
    )
    checker = _parse(path)
    assert checker.errors == []
    for section in ("preprocessing", "leaderboard", "k_selection"):
        assert section not in checker.ids
        assert f"#{section}" not in [v for _, _, v in checker.refs]
    assert "No metrics were passed." in " ".join(checker.text)


def test_noise_segment_and_meaningless_plots(tmp_path, blobs):
    X, _ = blobs
    X = np.vstack([X, [[40.0, 40.0], [-40.0, 40.0]]])
    model = DBSCAN(eps=0.8, min_samples=5).fit(X)
    data = pd.DataFrame(X, columns=["u", "v"])
    path = write_report(
        tmp_path / "dbscan.html",
        data=data,
        labels=model.labels_,
        X_prepared=X,
        model=model,
        plots=["cluster", "dendrogram"],
    )
    text = " ".join(_parse(path).text)
    assert "Noise" in text
    assert "Not drawn: plot='dendrogram' needs a hierarchical model" in text


def test_never_overwrites_unless_asked(wholesale_run, tmp_path):
    data, X, model = wholesale_run
    path = tmp_path / "r.html"
    path.write_text("keep me")
    kwargs = {
        "data": data,
        "labels": model.labels_,
        "X_prepared": X,
        "model": model,
        "plots": ["distribution"],
    }
    with pytest.raises(FileExistsError, match="already exists; pass overwrite=True"):
        write_report(path, **kwargs)
    assert path.read_text() == "keep me"
    write_report(path, overwrite=True, **kwargs)
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html"]  # no temporary file left


def test_errors(wholesale_run, tmp_path):
    data, X, model = wholesale_run
    with pytest.raises(ValueError, match=r"path must be a file name ending in \.html or \.htm"):
        write_report(tmp_path / "r.pdf", data=data, labels=model.labels_, X_prepared=X, model=model)
    with pytest.raises(ValueError, match="X_prepared must have one row per row of data"):
        write_report(
            tmp_path / "r.html", data=data, labels=model.labels_, X_prepared=X[:5], model=model
        )
    with pytest.raises(ValueError, match="unknown plot 'clusters'; did you mean 'cluster'"):
        write_report(
            tmp_path / "r.html",
            data=data,
            labels=model.labels_,
            X_prepared=X,
            model=model,
            plots=["clusters"],
        )
    assert list(tmp_path.iterdir()) == []


def _browser() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def test_renders_in_headless_chromium(full_report, tmp_path):
    browser = _browser()
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("CI is set but no chromium is installed: .ci/run must install chromium")
        pytest.skip("no chromium / chrome on PATH (apt-get install chromium); CI installs it")
    from matplotlib.image import imread

    path, _ = full_report
    shot = tmp_path / "shot.png"
    command = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--screenshot={shot}",
        "--window-size=1280,2000",
        path.resolve().as_uri(),
    ]
    subprocess.run(command, capture_output=True, timeout=180, check=False)
    assert shot.exists(), "chromium wrote no screenshot"
    pixels = imread(shot)[..., :3]
    assert pixels.shape[:2] == (2000, 1280)
    # not blank: many distinct colours, a fair share of ink, and the plot colours of segments
    assert pixels.std() > 0.05
    assert np.mean(pixels.mean(axis=-1) < 0.6) > 0.01
    assert len(np.unique((pixels * 255).astype(np.uint8).reshape(-1, 3), axis=0)) > 200


def test_k_selection_accepts_a_choose_k_result():
    from types import SimpleNamespace

    from clusterlab.report import _k_selection

    table = pd.DataFrame(
        {"inertia": [9.0, 4.0, 3.5], "silhouette": [0.4, 0.6, 0.5], "votes": [0, 2, 0]},
        index=[2, 3, 4],
    )
    figure = _k_selection(SimpleNamespace(table=table, best_k=3, votes={"elbow": 3}))
    assert figure.uri.startswith("data:image/png;base64,")
    assert figure.note == "Chosen k = 3."
    with pytest.raises(ValueError, match="k_selection must be a DataFrame of criteria"):
        _k_selection([1, 2, 3])
