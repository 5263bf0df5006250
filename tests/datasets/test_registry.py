"""Resolving loaders by name, their options, and finding the data and the cache."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image

from mmgraph.data import DataError
from mmgraph.datasets import (
    DATASETS,
    DataNotFoundError,
    available,
    cache_dir,
    data_root,
    data_status,
    load,
    loader_options,
)
from mmgraph.datasets._paths import save_png_atomic
from mmgraph.registry import Registry


def test_available_lists_every_loader_with_a_description() -> None:
    names = available()
    assert set(names) == {"digits", "emoji", "openmoji", "synthetic", "wn18rr"}
    assert all(isinstance(d, str) and d for d in names.values())


def test_unknown_name_lists_the_choices() -> None:
    with pytest.raises(ValueError) as error:
        load("emoj")
    assert str(error.value) == (
        "Could not resolve dataset 'emoj' among choices "
        "{'digits', 'emoji', 'openmoji', 'synthetic', 'wn18rr'}"
    )


def test_names_are_case_insensitive() -> None:
    assert len(load(" Synthetic", num_items=3)) == 9
    assert isinstance(DATASETS, Registry) and DATASETS.names() == sorted(available())


def test_unknown_option_lists_the_valid_ones() -> None:
    with pytest.raises(TypeError, match=r"unknown option\(s\) \['num_itmes'\].*'num_items'"):
        load("synthetic", num_itmes=3)
    message = r"\['languges'\].*Valid options: \['languages', 'modalities'\]"
    with pytest.raises(TypeError, match=message):
        load("emoji", root="/nonexistent", languges=("en",))


def test_loader_options_shows_the_defaults() -> None:
    assert loader_options("digits") == {"modalities": None, "mnist_limit": None}
    assert loader_options("wn18rr") == {}


def test_data_root_without_argument_or_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MMGRAPH_DATA", raising=False)
    with pytest.raises(DataNotFoundError, match="MMGRAPH_DATA is not set.*root="):
        data_root()
    with pytest.raises(FileNotFoundError):  # also a FileNotFoundError and a DataError
        load("digits")


def test_data_root_names_the_missing_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere"
    monkeypatch.setenv("MMGRAPH_DATA", str(missing))
    with pytest.raises(DataError) as error:
        load("wn18rr")
    message = str(error.value)
    assert str(missing) in message and "from MMGRAPH_DATA" in message
    assert "MMGRAPH_DATA=/path/to/shared/data" in message and "root=" in message
    assert data_root(tmp_path) == tmp_path  # the argument wins over the variable


@pytest.mark.parametrize(
    ("name", "relative"),
    [
        ("emoji", "emoji/emoji-test.txt"),
        ("digits", "fsdd/recordings"),
        ("wn18rr", "wn18rr/entity2text.txt"),
    ],
)
def test_missing_data_names_where_it_looked(tmp_path: Path, name: str, relative: str) -> None:
    with pytest.raises(DataNotFoundError) as error:
        load(name, root=tmp_path)
    assert str(tmp_path / relative) in str(error.value)
    assert "MMGRAPH_DATA" in str(error.value)


def test_data_status(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MMGRAPH_DATA", raising=False)
    status = data_status()
    assert status == {"emoji": False, "openmoji": True, "digits": False, "wn18rr": False,
                      "synthetic": True}
    assert data_status(tmp_path)["wn18rr"] is False


def test_data_status_of_the_real_data(data_root: Path) -> None:
    assert all(data_status(data_root).values())


def test_cache_dir_follows_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MMGRAPH_CACHE", str(tmp_path / "cache"))
    assert cache_dir("a", "b") == tmp_path / "cache" / "a" / "b"
    assert (tmp_path / "cache" / "a" / "b").is_dir()
    monkeypatch.delenv("MMGRAPH_CACHE")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "mmgraph"


def test_save_png_atomic_leaves_no_partial_file(tmp_path: Path) -> None:
    target = tmp_path / "x.png"
    save_png_atomic(Image.new("RGB", (4, 4), "red"), target)
    assert Image.open(target).size == (4, 4)

    class Broken:
        def save(self, *args: object, **kwargs: object) -> None:
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        save_png_atomic(Broken(), tmp_path / "y.png")  # type: ignore[arg-type]
    assert sorted(os.listdir(tmp_path)) == ["x.png"]
