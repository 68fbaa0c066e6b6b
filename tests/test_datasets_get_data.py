"""get_data: PyCaret's tutorial data bundled, read as pycaret.datasets.get_data returns it."""

from __future__ import annotations

import gzip
import hashlib
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest

from clusterlab.datasets import get_data, list_datasets

# sha256 of PyCaret's files, as recorded in ../shared/data/pycaret-datasets/README.md
SHA256 = {
    "jewellery": "523dde7b8059dd0c1388412fe81591d10ff2a989ffdebbb1efb954cad6d77281",
    "mice": "5ec490ae48bf7f2eb958fd33ef5036e58a2933cc05e816064c0ea3b14ad3903b",
}


ROOT = Path(__file__).resolve().parents[1]


def shared_file(name: str) -> Path:
    """PyCaret's original file in ../shared/data (beside the repository or a worktree)."""
    for base in (ROOT.parent, ROOT.parent.parent):
        path = base / "shared" / "data" / "pycaret-datasets" / name
        if path.is_file():
            return path
    pytest.skip("PyCaret's data sets not found beside the repository (../shared/data)")


def _bundled_bytes(name):
    path = resources.files("clusterlab.datasets") / "data"
    if name == "mice":
        return gzip.decompress((path / "mice.csv.gz").read_bytes())
    return (path / f"{name}.csv").read_bytes()


@pytest.mark.parametrize("name", ["jewellery", "mice"])
def test_bundled_files_are_pycarets_unchanged(name):
    assert hashlib.sha256(_bundled_bytes(name)).hexdigest() == SHA256[name]


@pytest.mark.parametrize("name, shape", [("jewellery", (505, 4)), ("mice", (1080, 82))])
def test_frame_equals_read_csv_of_the_shared_file(name, shape):
    frame = get_data(name, verbose=False)
    assert frame.shape == shape
    expected = pd.read_csv(shared_file(f"{name}.csv")).infer_objects()
    pd.testing.assert_frame_equal(frame, expected)
    rows = list_datasets().set_index("name").loc[name]
    assert (rows["rows"], rows["columns"]) == shape


def test_wholesale_and_index():
    assert get_data("wholesale", verbose=False).shape == (440, 8)
    index = get_data(verbose=False)
    assert index["Dataset"].tolist() == ["jewellery", "mice", "wholesale"]


def test_verbose_prints_the_head(capsys):
    get_data("jewellery")
    out = capsys.readouterr().out
    assert "SpendingScore" in out and len(out.strip().splitlines()) == 6


def test_save_copy_writes_once_and_never_overwrites(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    frame = get_data("jewellery", save_copy=True, verbose=False)
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "jewellery.csv"), frame)
    (tmp_path / "jewellery.csv").write_text("mine")
    with pytest.raises(FileExistsError, match="does not overwrite"):
        get_data("jewellery", save_copy=True, verbose=False)
    assert (tmp_path / "jewellery.csv").read_text() == "mine"


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"dataset": "iris"}, ValueError, "dataset must be 'index' or one of .*got 'iris'"),
        ({"dataset": 3}, TypeError, "dataset must be a string; got int"),
        ({"dataset": "mice", "folder": "clustering"}, ValueError, "folder='clustering'.*downloads"),
        ({"dataset": "mice", "address": "http://x"}, ValueError, "address='http://x'"),
        ({"dataset": "mice", "profile_data": True}, ValueError, "profile_data=True"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        get_data(verbose=False, **kwargs)
