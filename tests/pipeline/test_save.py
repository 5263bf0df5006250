"""Saving a result never deletes or mixes what mmgraph did not write."""

from __future__ import annotations

import json

import pytest

from mmgraph.cli import main
from mmgraph.data import Task
from mmgraph.datasets import load
from mmgraph.pipeline import PipelineResult, pipeline

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TASK = Task(name="syn", description="", kind="link", source="a", target="b")


@pytest.fixture(scope="module")
def results() -> dict[str, PipelineResult]:
    dataset = load("synthetic", num_items=60, seed=0)
    return {
        "gnn": pipeline(TASK, dataset=dataset, seed=0, cache=None, progress=False, model_options={"epochs": 2}),
        "knn": pipeline(TASK, dataset=dataset, model="knn-transfer", seed=1, cache=None, progress=False),
        "unsavable": pipeline(TASK, dataset=dataset, model="late-fusion", seed=2, cache=None, progress=False),
    }


def _no_staging_left(folder) -> None:
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")], "a staging folder was left behind"
    assert not [p for p in folder.iterdir() if p.name.startswith(".")], "a staging folder was left behind"


def test_a_new_folder_is_made_whole(tmp_path, results) -> None:
    out = results["gnn"].save(tmp_path / "runs" / "new")
    assert sorted(p.name for p in out.iterdir()) == ["model", "result.json"]
    _no_staging_left(out)


def test_an_empty_folder_receives_the_run(tmp_path, results) -> None:
    (tmp_path / "empty").mkdir()
    results["knn"].save(tmp_path / "empty")
    assert PipelineResult.load(tmp_path / "empty").seed == 1
    _no_staging_left(tmp_path / "empty")


def test_a_folder_with_a_users_file_is_refused_and_kept(tmp_path, results) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("my notes")
    with pytest.raises(FileExistsError, match=r"holds files mmgraph did not write \(notes.txt\).*--overwrite"):
        results["gnn"].save(folder)
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]
    # with overwrite, mmgraph's files are added and the user's stay as they were
    results["gnn"].save(folder, overwrite=True)
    assert sorted(p.name for p in folder.iterdir()) == ["model", "notes.txt", "result.json"]
    assert (folder / "notes.txt").read_text() == "my notes"
    _no_staging_left(folder)


def test_the_current_folder_is_never_emptied(tmp_path, results, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data.csv").write_text("id\n1\n")
    with pytest.raises(FileExistsError, match="data.csv"):
        results["knn"].save(".")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv"]


def test_an_earlier_run_is_replaced(tmp_path, results) -> None:
    folder = results["gnn"].save(tmp_path / "run")
    assert (folder / "model").is_dir()
    results["knn"].save(folder)  # an earlier mmgraph run: replaced without a flag
    record = json.loads((folder / "model" / "model.json").read_text())
    assert record["model"] == "knn-transfer"
    results["unsavable"].save(folder)  # a model that cannot be saved: the earlier run's model goes
    record = json.loads((folder / "result.json").read_text())
    assert record["model"] == "late-fusion" and record["seed"] == 2 and record["model_saved"].startswith("no:")
    assert sorted(p.name for p in folder.iterdir()) == ["result.json"], "the earlier run's model is gone"
    results["gnn"].save(folder)
    assert PipelineResult.load(folder).fitted is not None
    _no_staging_left(folder)


def test_the_cli_refuses_before_running(tmp_path, capsys) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "keep.txt").write_text("x")
    code = main(["run", "--task", "openmoji-text", "--seed", "0", "--out", str(folder), "--quiet"])
    assert code == 2
    err = capsys.readouterr().err
    assert "keep.txt" in err and "--overwrite" in err and err.count("\n") == 1
    assert sorted(p.name for p in folder.iterdir()) == ["keep.txt"]
