"""Saving a result never deletes or mixes what mmgraph did not write."""

from __future__ import annotations

import dataclasses
import errno
import json
import os
import re
import shutil
import tempfile
import threading
import time
from pathlib import Path

import pytest

import mmgraph.io
import mmgraph.pipeline
from mmgraph.cli import main
from mmgraph.data import Task
from mmgraph.datasets import load
from mmgraph.errors import OutputError
from mmgraph.io import folder_lock
from mmgraph.pipeline import PipelineResult, check_result_folder, pipeline

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


# ---------------------------------------------------------------------- a kill at any moment
KILL_CODE = 9


def _save_until(result, folder, kill_at: int | None) -> int:
    """Saves ``result`` into ``folder`` in a forked child that dies (``os._exit``: no clean-up runs,
    as under SIGKILL) just before its ``kill_at``-th file operation (a made folder, a rename, a
    removal); returns the number of operations the save made when ``kill_at`` is None."""
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 3
        try:
            count = 0

            def counted(function):
                def call(*args, **kwargs):
                    nonlocal count
                    count += 1
                    if count == kill_at:
                        os._exit(KILL_CODE)
                    return function(*args, **kwargs)
                return call

            for module, name in [(os, "mkdir"), (os, "replace"), (os, "unlink"), (os, "rmdir"), (shutil, "rmtree")]:
                setattr(module, name, counted(getattr(module, name)))
            result.save(folder)
            code = min(count, 200) if kill_at is None else 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def _belongs_together(folder) -> None:
    """A result.json in the folder belongs to the model beside it."""
    if (folder / "result.json").exists() and (folder / "model" / "model.json").exists():
        record = json.loads((folder / "result.json").read_text())
        model = json.loads((folder / "model" / "model.json").read_text())
        assert record["model"] == model["model"], "result.json and model/ of two different runs"


@pytest.mark.parametrize("earlier", [False, pytest.param(True, marks=pytest.mark.slow)],
                         ids=["new folder", "over an earlier run"])
def test_the_same_command_again_after_a_kill_at_any_moment_saves_whole(tmp_path, results, monkeypatch, earlier):
    """`mmgraph run --out D` killed while saving, then run again: D is accepted, saved whole, and
    nothing that the killed save left remains."""
    def start(name: str):
        folder = tmp_path / name / "run"
        folder.parent.mkdir()
        if earlier:
            results["gnn"].save(folder)
        return folder

    operations = _save_until(results["knn"], start("count"), None)
    assert 5 < operations < 200, operations
    monkeypatch.setattr(mmgraph.pipeline, "pipeline", lambda *args, **kwargs: results["knn"])
    for kill_at in range(1, operations + 1):
        folder = start(f"kill{kill_at}")
        assert _save_until(results["knn"], folder, kill_at) == KILL_CODE
        _belongs_together(folder)
        # the same command again
        code = main(["run", "--task", "openmoji-text", "--seed", "1", "--out", str(folder), "--quiet",
                     "--examples", "0"])
        assert code == 0, f"killed at operation {kill_at} of {operations}: the same command again failed"
        assert sorted(p.name for p in folder.iterdir()) == ["model", "result.json"], kill_at
        assert sorted(p.name for p in folder.parent.iterdir()) == ["run"], kill_at
        again = PipelineResult.load(folder)
        assert again.model == "knn-transfer" and again.seed == 1 and again.fitted is not None


# ---------------------------------------------------------------------- output that cannot be written
def _no_run(monkeypatch) -> list[str]:
    """Replaces the pipeline with one that records its calls: a refused --out must come before it."""
    calls: list[str] = []
    monkeypatch.setattr(mmgraph.pipeline, "pipeline", lambda *args, **kwargs: calls.append("run"))
    return calls


def test_an_out_folder_under_a_file_fails_before_the_run(tmp_path, monkeypatch, capsys) -> None:
    (tmp_path / "a-file").write_text("x")  # as root too: no folder can be made under a file
    calls = _no_run(monkeypatch)
    out = tmp_path / "a-file" / "run"
    assert main(["run", "--task", "openmoji-text", "--seed", "0", "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert f"Cannot write to the output folder {str(out)!r}" in err and "a file, not a folder" in err, err
    assert calls == [], "the run started although its output could not be written"
    with pytest.raises(OutputError, match="a file, not a folder"):
        check_result_folder(out)


def test_a_read_only_folder_fails_before_the_run(tmp_path, monkeypatch, capsys) -> None:
    """Root ignores permission bits, so the read-only file system is the operating system's answer."""
    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", kwargs.get("dir"))

    monkeypatch.setattr(tempfile, "mkdtemp", read_only)
    calls = _no_run(monkeypatch)
    for out in (tmp_path, tmp_path / "new" / "run"):
        with pytest.raises(OutputError, match=re.escape(f"{str(out)!r}: Read-only file system. Give a folder")):
            check_result_folder(out)
        assert main(["run", "--task", "openmoji-text", "--seed", "0", "--out", str(out), "--quiet"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Read-only file system" in err and "Give a folder you can write to" in err
    assert calls == []


def test_an_os_error_while_saving_is_one_error_and_keeps_the_earlier_run(tmp_path, results, monkeypatch) -> None:
    folder = results["gnn"].save(tmp_path / "run")
    replace, faults = os.replace, [OSError(errno.ENOSPC, "No space left on device")]

    def disk_full(source, target):
        if Path(source).parent != folder and Path(target) == folder / "result.json" and faults:
            raise faults.pop()  # the last step (the new model is in place), once
        replace(source, target)

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(OutputError, match=rf"{str(folder)!r}: No space left on device\. Give a folder"):
        results["knn"].save(folder)
    monkeypatch.undo()
    kept = PipelineResult.load(folder)  # the earlier run, whole
    assert kept.model == "gnn" and kept.seed == 0 and kept.fitted.name == "gnn"
    _no_staging_left(folder)


# ---------------------------------------------------------------------- two saves at once
def test_a_save_waits_for_the_folders_lock_and_says_so(tmp_path, results, monkeypatch, caplog) -> None:
    monkeypatch.setattr(mmgraph.io, "LOCK_PATIENCE_SECONDS", 0.05)
    folder = results["gnn"].save(tmp_path / "run")
    with folder_lock(folder):  # another process saving
        saving = _Thread(lambda: results["knn"].save(folder))
        _until(lambda: "waits, then replaces it" in caplog.text)
        time.sleep(0.2)
        assert saving.is_alive() and PipelineResult.load(folder).model == "gnn"
    saving.join(timeout=30)
    assert saving.error is None and PipelineResult.load(folder).model == "knn-transfer"
    assert "the earlier result in" in caplog.text and "(task syn, model gnn, seed 0) was replaced" in caplog.text
    _no_staging_left(folder)


def test_two_saves_into_one_folder_at_once_both_finish_one_after_the_other(tmp_path, results, monkeypatch,
                                                                            caplog) -> None:
    """The second save meets the first one's staging folder: it waits instead of refusing the folder
    (which threw away its finished training), then replaces the first result and says so."""
    monkeypatch.setattr(mmgraph.io, "LOCK_PATIENCE_SECONDS", 0.05)
    first, second = dataclasses.replace(results["gnn"]), dataclasses.replace(results["knn"])
    folder = tmp_path / "run"
    folder.mkdir()
    paused, go_on = threading.Event(), threading.Event()
    to_dict = PipelineResult.to_dict

    def pausing(self):
        if self is first:  # the first save stops half-way, its staging folder made
            paused.set()
            go_on.wait(timeout=30)
        return to_dict(self)

    monkeypatch.setattr(PipelineResult, "to_dict", pausing)
    one = _Thread(lambda: first.save(folder))
    assert paused.wait(timeout=30)
    assert [p for p in folder.iterdir() if p.name.startswith(".mmgraph-save.")], "no staging folder to meet"
    two = _Thread(lambda: second.save(folder))
    _until(lambda: "waits, then replaces it" in caplog.text or not two.is_alive())
    go_on.set()
    one.join(timeout=30)
    two.join(timeout=30)
    assert one.error is None and two.error is None, (one.error, two.error)
    saved = PipelineResult.load(folder)
    assert saved.model == "knn-transfer" and saved.fitted.name == "knn-transfer"
    assert "(task syn, model gnn, seed 0) was replaced" in caplog.text
    _no_staging_left(folder)


class _Thread(threading.Thread):
    """A thread that runs ``target`` at once and keeps the exception it raised."""

    def __init__(self, target) -> None:
        super().__init__(daemon=True)
        self.work, self.error = target, None
        self.start()

    def run(self) -> None:
        try:
            self.work()
        except BaseException as error:  # noqa: BLE001 - reported by the test
            self.error = error


def _until(condition, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)
