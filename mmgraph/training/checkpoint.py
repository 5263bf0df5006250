"""Checkpoints of a training loop: what a killed run needs to go on as if it had never stopped."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from mmgraph.checks import check_positive_int
from mmgraph.errors import DataError
from mmgraph.io import atomic_write, load_json, load_tensors, save_tensors
from mmgraph.training.selection import EarlyStopper

logger = logging.getLogger(__name__)

CHECKPOINT_FORMAT = 1
"""The version of the checkpoint layout (``<name>.json`` + ``<name>.<epoch>.safetensors``)."""


def fingerprint(value: Any) -> str:
    """A stable hash of a JSON-able value (a run's configuration and data), ``"sha256:<hex>"``."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


class Checkpoint:
    """Saves a training loop's state every few epochs and gives it back to the same run started again.

    A checkpoint holds everything the next epoch depends on: the weights, the optimizer's state,
    the epoch, the early stopper (best score, best weights, checks without improvement), the
    loop's own random generator and the global random states of torch, numpy and ``random``.
    A loop resumed from it continues bit for bit as the uninterrupted loop would have.

    Files in ``directory``: ``<name>.<epoch>.safetensors`` (every tensor) and ``<name>.json``
    (the rest, the run's fingerprint and the name of its tensor file), each written atomically,
    the tensors first; the JSON is the commit point, so a run killed at any moment leaves the
    last complete checkpoint. A checkpoint with another fingerprint (another configuration or
    data) is not resumed: the loop starts fresh, says so, and its first save replaces it.

    Args:
        directory: the folder of the checkpoint (made when first saved).
        fingerprint: identifies the run (see :func:`fingerprint`); only an equal one resumes.
        every: epochs between saves; the loop's last epoch is always saved.
        name: the files' stem, one per training loop in the folder.

    Example:
        >>> Checkpoint("ckpt", fingerprint="sha256:0", every=10)
        Checkpoint(directory='ckpt', every=10, name='training')
    """

    def __init__(
        self, directory: str | os.PathLike, *, fingerprint: str, every: int = 10, name: str = "training"
    ) -> None:
        self.directory = Path(directory)
        self.fingerprint = fingerprint
        self.every = check_positive_int(every, "every", "Checkpoint")
        self.name = name
        self._parts: list[Checkpoint] = []

    def __repr__(self) -> str:
        return f"Checkpoint(directory={str(self.directory)!r}, every={self.every}, name={self.name!r})"

    @property
    def path(self) -> Path:
        """The JSON file of the checkpoint (it names the tensor file that goes with it)."""
        return self.directory / f"{self.name}.json"

    def due(self, epoch: int, *, last: bool) -> bool:
        """Whether the loop saves after ``epoch`` (1-based): every ``every`` epochs and at the end."""
        return last or epoch % self.every == 0

    def save(
        self, epoch: int, *, module: nn.Module, optimizer: torch.optim.Optimizer, stopper: EarlyStopper,
        generator: torch.Generator, done: bool, extra: dict[str, Any] | None = None,
    ) -> None:
        """Saves the loop's state after ``epoch`` (1-based); ``done``: training is over, a rerun skips it.

        Args:
            extra: JSON-able state of the loop's own (its history, ...), given back by :meth:`resume`.
        """
        tensors = {f"module.{k}": v for k, v in module.state_dict().items()}
        for index, values in optimizer.state_dict()["state"].items():
            tensors.update({f"optimizer.{index}.{k}": torch.as_tensor(v) for k, v in values.items()})
        if stopper.best_state is not None:
            tensors.update({f"best.{k}": v for k, v in stopper.best_state.items()})
        tensors["rng.generator"] = generator.get_state()
        tensors["rng.torch"] = torch.get_rng_state()
        kind, keys, position, has_gauss, gauss = np.random.get_state()
        tensors["rng.numpy"] = torch.from_numpy(keys.astype(np.int64))
        version, internal, gauss_next = random.getstate()
        tensors["rng.python"] = torch.tensor(internal, dtype=torch.int64)
        file = f"{self.name}.{epoch}.safetensors"
        meta = {
            "format": CHECKPOINT_FORMAT, "fingerprint": self.fingerprint, "epoch": epoch, "done": done,
            "tensors": file, "stopper": stopper.state(), "extra": extra or {},
            "numpy": [kind, int(position), int(has_gauss), float(gauss)], "python": [version, gauss_next],
        }
        save_tensors(self.directory / file, tensors)
        atomic_write(self.path, json.dumps(meta, indent=1))
        for old in self._tensor_files():
            if old.name != file:
                old.unlink(missing_ok=True)

    def resume(
        self, *, module: nn.Module, optimizer: torch.optim.Optimizer, stopper: EarlyStopper,
        generator: torch.Generator,
    ) -> dict[str, Any] | None:
        """Puts the saved state back into a freshly built loop (module, optimizer, stopper, generator
        and the global random states).

        Returns:
            ``{"epoch": last saved epoch, "done": bool, "extra": {...}}``, or ``None`` (start fresh)
            when there is no checkpoint, or one of another run, or one that cannot be read.
        """
        if not self.path.exists():
            return None
        try:
            meta = load_json(self.path)
            foreign = meta.get("format") != CHECKPOINT_FORMAT or meta.get("fingerprint") != self.fingerprint
            tensors = {} if foreign else load_tensors(self.directory / meta["tensors"])
        except (DataError, KeyError, TypeError, AttributeError) as error:
            logger.warning("cannot read the checkpoint %s (%s); starting fresh", self.path, error)
            return None
        if foreign:
            logger.warning(
                "the checkpoint %s is of another run (another configuration, data or mmgraph version); "
                "starting fresh and replacing it", self.path,
            )
            return None
        module.load_state_dict(_part(tensors, "module."))
        state: dict[int, dict[str, Tensor]] = {}
        for key, value in _part(tensors, "optimizer.").items():
            index, name = key.split(".", 1)
            state.setdefault(int(index), {})[name] = value
        optimizer.load_state_dict({"state": state, "param_groups": optimizer.state_dict()["param_groups"]})
        stopper.restore(meta["stopper"], _part(tensors, "best.") or None)
        generator.set_state(tensors["rng.generator"])
        torch.set_rng_state(tensors["rng.torch"])
        kind, position, has_gauss, gauss = meta["numpy"]
        np.random.set_state((kind, tensors["rng.numpy"].numpy().astype(np.uint32), position, has_gauss, gauss))
        version, gauss_next = meta["python"]
        random.setstate((version, tuple(tensors["rng.python"].tolist()), gauss_next))
        logger.warning("resumed from epoch %d (checkpoint %s)", meta["epoch"], self.path)
        return {"epoch": int(meta["epoch"]), "done": bool(meta["done"]), "extra": meta["extra"]}

    def part(self, label: str) -> Checkpoint:
        """The checkpoint of one of several training loops of the same run (one per setting a model
        tries): files ``<name>.<label>.*`` in the same folder, resumed only by the same run and
        label, removed with this checkpoint."""
        if not label or not all(ch.isalnum() or ch in "-_." for ch in label):
            raise DataError(f"A checkpoint part's label must be letters, digits, '-', '_' or '.'. Got {label!r}.")
        part = Checkpoint(self.directory, fingerprint=fingerprint([self.fingerprint, label]), every=self.every,
                          name=f"{self.name}.{label}")
        self._parts.append(part)
        return part

    def remove(self) -> None:
        """Deletes the checkpoint's files and its parts' (and leftovers of interrupted writes), then the
        folder if empty; no other file is touched."""
        for part in self._parts:
            part.remove()
        if not self.directory.is_dir():
            return
        for path in [self.path, *self._tensor_files()]:
            path.unlink(missing_ok=True)
        for path in self.directory.glob(f".{self.name}.*.tmp"):  # atomic_write's temporary files
            path.unlink(missing_ok=True)
        try:
            self.directory.rmdir()
        except OSError:  # other files are there
            pass

    def _tensor_files(self) -> list[Path]:
        prefix = f"{self.name}."
        return [
            p for p in self.directory.glob(f"{self.name}.*.safetensors")
            if p.name[len(prefix) : -len(".safetensors")].isdigit()
        ]


def _part(tensors: dict[str, Tensor], prefix: str) -> dict[str, Tensor]:
    return {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
