"""`mmgraph run` killed with SIGKILL while training, started again with the same command, resumes from
its last checkpoint and saves the same metrics as an uninterrupted run with the same seed."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from mmgraph.cli import main
from mmgraph.datasets import load

pytestmark = pytest.mark.usefixtures("one_torch_thread")

# The killed process runs the real command, only pausing after each checkpoint it writes, so that
# the test reliably kills it mid-training (not after training already ended).
PAUSING = """
import sys, time
from mmgraph.training.checkpoint import Checkpoint
save = Checkpoint.save
def save_and_pause(self, epoch, **state):
    save(self, epoch, **state)
    time.sleep(0.4)
Checkpoint.save = save_and_pause
from mmgraph.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _manifest(folder) -> list[str]:
    """A synthetic two-modality manifest (60 items) with its vectors: the arguments of `mmgraph run`."""
    dataset = load("synthetic", num_items=60, modalities=("a", "b"), seed=1)
    samples = dataset.samples
    folder.mkdir()
    pd.DataFrame({"id": samples["id"], "modality": samples["modality"], "text": samples["id"],
                  "item": samples["item"]}).to_csv(folder / "manifest.csv", index=False)
    ids = np.concatenate([samples.loc[samples["modality"] == m, "id"].to_numpy(str) for m in ("a", "b")])
    np.savez(folder / "vectors.npz", ids=ids, features=np.concatenate([dataset.features["a"], dataset.features["b"]]))
    vectors = folder / "vectors.npz"
    return ["run", "--manifest", str(folder / "manifest.csv"), "--source", "a", "--target", "b",
            "--encoder", f"a=precomputed:{vectors}", "--encoder", f"b=precomputed:{vectors}",
            "--epochs", "60", "--k", "5", "--seed", "0", "--examples", "0", "--checkpoint-every", "5"]


def _wait_for(condition, process: subprocess.Popen, log, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            raise AssertionError(f"the run ended before it was killed:\n{log.read_text()}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError("no checkpoint appeared in time")
        time.sleep(0.02)


def test_a_killed_run_resumes_to_the_same_metrics(tmp_path, caplog) -> None:
    command = _manifest(tmp_path / "data")
    assert main([*command, "--out", str(tmp_path / "whole"), "--quiet"]) == 0
    whole = json.loads((tmp_path / "whole" / "result.json").read_text())

    out = tmp_path / "killed"
    checkpoint = out / "checkpoints" / "training.json"
    args = [*command, "--out", str(out)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}

    def saved_epoch() -> int:
        try:
            return json.loads(checkpoint.read_text())["epoch"]
        except FileNotFoundError:  # (never half-written: it is replaced by a rename)
            return 0

    log = tmp_path / "killed.log"
    with open(log, "w") as stderr:  # a file, not a pipe: a full pipe would block the run
        process = subprocess.Popen([sys.executable, "-c", PAUSING, *args], env=env, stderr=stderr)
    # Killed at the first checkpoint, epoch 5: validation picks a later epoch (10) of this run, so the
    # saved metrics depend on the epochs trained after resuming (without the random states put back, they differ).
    _wait_for(lambda: saved_epoch() >= 5, process, log)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    meta = json.loads(checkpoint.read_text())
    assert not meta["done"], "killed after training had ended: the test would not test resuming"
    assert not (out / "result.json").exists()

    with caplog.at_level(logging.WARNING, logger="mmgraph"):
        assert main(args) == 0  # the same command again
    assert f"resumed from epoch {meta['epoch']}" in caplog.text
    resumed = json.loads((out / "result.json").read_text())
    assert resumed["metrics"] == whole["metrics"]
    assert resumed["config"] == whole["config"] and resumed["model_config"] == whole["model_config"]
    assert sorted(p.name for p in out.iterdir()) == ["model", "result.json"], "the checkpoints are removed"
