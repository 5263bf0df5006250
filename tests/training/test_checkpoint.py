"""Checkpoints: a run interrupted after a checkpoint and started again continues bit for bit, and
only the same run resumes a checkpoint. (A real SIGKILL to ``mmgraph run``: tests/pipeline/test_resume.py.)"""

from __future__ import annotations

import json
import logging
import random

import numpy as np
import pytest
import torch

from mmgraph.data import Task
from mmgraph.pipeline import pipeline
from mmgraph.training import Checkpoint, EarlyStopper
from mmgraph.training.checkpoint import fingerprint

pytestmark = pytest.mark.usefixtures("one_torch_thread")

LINK = Task(name="syn", description="", kind="link", source="a", target="b", dataset="synthetic",
            dataset_options={"num_items": 80, "seed": 1})
OPTIONS = {
    "gnn": {"epochs": 40, "hidden_dim": 64}, "siamese": {"epochs": 40},
    "gnn-minibatch": {"epochs": 40, "hidden_dim": 64, "training": "minibatch", "minibatch_size": 16},
}


class Interrupted(BaseException):
    """Stands for the end of a process right after a checkpoint was written."""


def _interrupt_after(monkeypatch, epoch: int) -> None:
    save = Checkpoint.save

    def save_then_stop(self, step, **state):
        save(self, step, **state)
        if step == epoch:
            raise Interrupted

    monkeypatch.setattr(Checkpoint, "save", save_then_stop)


def _run(model: str, seed: int = 3, **options):
    name = model.split("-")[0]
    return pipeline(LINK, model=name, seed=seed, cache=None, progress=False, model_options=OPTIONS[model], **options)


def _history(result) -> list[dict]:
    """Every epoch's loss and validation score (gnn), or the epoch chosen on validation (baselines)."""
    fitted = result.fitted
    return fitted.learner_.history_ if fitted.name == "gnn" else [fitted.chosen_]


@pytest.mark.parametrize("model", ["gnn", "gnn-minibatch", "siamese"])
def test_an_interrupted_run_resumes_to_the_same_result(tmp_path, monkeypatch, caplog, model: str) -> None:
    plain = _run(model)
    folder = tmp_path / "checkpoints"
    _interrupt_after(monkeypatch, 5)
    with pytest.raises(Interrupted):
        _run(model, checkpoint_dir=folder, checkpoint_every=5)
    assert sorted(p.name for p in folder.iterdir()) == ["training.5.safetensors", "training.json"]
    meta = json.loads((folder / "training.json").read_text())
    assert meta["epoch"] == 5 and not meta["done"] and meta["tensors"] == "training.5.safetensors"

    monkeypatch.undo()
    with caplog.at_level(logging.WARNING, logger="mmgraph"):
        resumed = _run(model, checkpoint_dir=folder, checkpoint_every=5)
    assert "resumed from epoch 5" in caplog.text
    assert resumed.metrics == plain.metrics
    assert _history(resumed) == _history(plain)  # every epoch's loss, to the last digit
    assert resumed.model_config == plain.model_config
    assert not folder.exists(), "the checkpoint is removed after a successful run"


def test_each_setting_a_model_trains_has_its_own_checkpoint(tmp_path, monkeypatch, caplog) -> None:
    # The autoencoder trains one loop per (latent size, reconstruction weight); sharing one checkpoint,
    # the second setting resumed the first one's finished loop (and failed on its other latent size).
    options = {"epochs": 12, "latent_dims": (8, 16), "recon_weights": (1.0,), "patience": 50}
    plain = pipeline(LINK, model="autoencoder", seed=3, cache=None, progress=False, model_options=options)
    folder = tmp_path / "checkpoints"
    _interrupt_after(monkeypatch, 5)
    with pytest.raises(Interrupted):
        pipeline(LINK, model="autoencoder", seed=3, cache=None, progress=False, model_options=options,
                 checkpoint_dir=folder, checkpoint_every=5)
    assert sorted(p.name for p in folder.iterdir()) == [
        "training.latent8-recon1.0.5.safetensors", "training.latent8-recon1.0.json"
    ]
    monkeypatch.undo()
    with caplog.at_level(logging.WARNING, logger="mmgraph"):
        resumed = pipeline(LINK, model="autoencoder", seed=3, cache=None, progress=False, model_options=options,
                           checkpoint_dir=folder, checkpoint_every=5)
    assert caplog.text.count("resumed from epoch 5") == 1
    assert resumed.metrics == plain.metrics and resumed.model_config == plain.model_config
    assert set(resumed.model_config["chosen"]["val_mrr_per_setting"]) == {
        "latent_dim=8, recon_weight=1.0", "latent_dim=16, recon_weight=1.0"
    }
    assert not folder.exists(), "every setting's checkpoint is removed after a successful run"


def test_a_checkpoint_of_another_run_is_not_resumed(tmp_path, monkeypatch, caplog) -> None:
    folder = tmp_path / "checkpoints"
    _interrupt_after(monkeypatch, 5)
    with pytest.raises(Interrupted):
        _run("gnn", seed=3, checkpoint_dir=folder, checkpoint_every=5)
    monkeypatch.undo()
    with caplog.at_level(logging.WARNING, logger="mmgraph"):
        other = _run("gnn", seed=4, checkpoint_dir=folder, checkpoint_every=5)
    assert "is of another run" in caplog.text and "resumed" not in caplog.text
    assert other.metrics == _run("gnn", seed=4).metrics
    assert not folder.exists()


def test_a_finished_training_is_not_repeated(tmp_path, monkeypatch, caplog) -> None:
    """Killed after training (during model selection or evaluation): the rerun goes straight on."""
    plain = _run("gnn")
    folder = tmp_path / "checkpoints"
    epochs = len(plain.fitted.learner_.history_)
    _interrupt_after(monkeypatch, epochs)
    with pytest.raises(Interrupted):
        _run("gnn", checkpoint_dir=folder, checkpoint_every=100)
    assert json.loads((folder / "training.json").read_text())["done"]
    monkeypatch.undo()
    with caplog.at_level(logging.WARNING, logger="mmgraph"):
        resumed = _run("gnn", checkpoint_dir=folder, checkpoint_every=100)
    assert f"resumed from epoch {epochs}" in caplog.text
    assert resumed.metrics == plain.metrics and resumed.fitted.learner_.history_ == plain.fitted.learner_.history_


def test_a_damaged_checkpoint_starts_fresh(tmp_path, caplog) -> None:
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    (folder / "training.json").write_text("{not json")
    with caplog.at_level(logging.WARNING, logger="mmgraph"):
        result = _run("siamese", checkpoint_dir=folder)
    assert "cannot read the checkpoint" in caplog.text
    assert result.metrics == _run("siamese").metrics


def test_remove_deletes_only_the_checkpoint_files(tmp_path) -> None:
    module = torch.nn.Linear(3, 2)
    optimizer = torch.optim.Adam(module.parameters())
    module(torch.ones(1, 3)).sum().backward()
    optimizer.step()
    stopper = EarlyStopper(2)
    stopper.update(0.5, module.state_dict, step=1)
    loop = {"module": module, "optimizer": optimizer, "stopper": stopper, "generator": torch.Generator()}
    checkpoint = Checkpoint(tmp_path, fingerprint=fingerprint({"run": 1}), every=1)
    checkpoint.save(1, **loop, done=False)
    checkpoint.save(2, **loop, done=False)
    (tmp_path / ".training.json.abc.tmp").write_text("")  # what a kill during a write leaves
    (tmp_path / "notes.txt").write_text("mine")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".training.json.abc.tmp", "notes.txt", "training.2.safetensors", "training.json",
    ]
    checkpoint.remove()
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_the_stopper_and_optimizer_come_back_exactly(tmp_path) -> None:
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Dropout(0.5), torch.nn.Linear(8, 1))
    optimizer = torch.optim.AdamW(module.parameters(), lr=0.01)
    stopper = EarlyStopper(3)
    generator = torch.Generator().manual_seed(1)

    def step(epoch: int) -> tuple[float, float, float]:
        x = torch.randn(16, 4, generator=generator)
        loss = module(x).pow(2).mean()  # dropout draws from torch's global generator
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        stopper.update(-loss.item(), module.state_dict, step=epoch)
        return loss.item(), float(np.random.rand()), random.random()  # numpy's and Python's global states too

    [step(e) for e in range(1, 4)]
    checkpoint = Checkpoint(tmp_path, fingerprint="sha256:x", every=1)
    checkpoint.save(3, module=module, optimizer=optimizer, stopper=stopper, generator=generator, done=False)
    expected = [step(e) for e in range(4, 8)]
    stopper_before = stopper.state()

    module2 = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Dropout(0.5), torch.nn.Linear(8, 1))
    optimizer2 = torch.optim.AdamW(module2.parameters(), lr=0.01)
    stopper2, generator2 = EarlyStopper(3), torch.Generator()
    module, optimizer, stopper, generator = module2, optimizer2, stopper2, generator2
    resumed = checkpoint.resume(module=module, optimizer=optimizer, stopper=stopper, generator=generator)
    assert resumed == {"epoch": 3, "done": False, "extra": {}}
    assert [step(e) for e in range(4, 8)] == expected
    assert stopper.state() == stopper_before
    assert Checkpoint(tmp_path, fingerprint="sha256:y").resume(
        module=module, optimizer=optimizer, stopper=stopper, generator=generator
    ) is None
