"""One epoch loop for every trained model: early stopping on validation, checkpoints, a progress bar."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from mmgraph.training.budget import CPUBudget
from mmgraph.training.checkpoint import Checkpoint
from mmgraph.training.selection import EarlyStopper


@dataclass
class Trained:
    """What :func:`train_epochs` leaves besides the module's weights.

    Attributes:
        history: one record per epoch: ``{"epoch", "loss"}`` and ``"val"`` where validated.
        best_score: the best validation score, ``None`` if nothing was validated.
        best_epoch: the epoch of ``best_score`` (whose weights the module holds), ``None`` if
            nothing was validated (the module holds the last epoch's weights).
    """

    history: list[dict[str, Any]] = field(default_factory=list)
    best_score: float | None = None
    best_epoch: int | None = None


def train_epochs(
    module: nn.Module,
    optimizer: torch.optim.Optimizer,
    generator: torch.Generator,
    *,
    epochs: int,
    eval_every: int,
    patience: int,
    train_epoch: Callable[[int], float | Mapping[str, float]],
    validate: Callable[[], float | None] | None = None,
    checkpoint: Checkpoint | None = None,
    progress: bool = True,
    desc: str = "train",
    writes: bool = True,
    budget: CPUBudget | None = None,
) -> Trained:
    """Runs ``train_epoch`` for epochs ``1..epochs``, keeping the weights of the best validation.

    After every ``eval_every`` epochs and after the last, ``validate()`` scores the module in
    eval mode (higher is better); ``patience`` checks in a row without improvement stop the
    loop, and the module gets back the weights of its best check. ``validate`` returning
    ``None`` means the task asks no validation question: the loop stops checking and trains
    every epoch. With a ``budget``, the loop also stops after the epoch in which the budget is
    spent, validating that epoch; each record then holds the CPU seconds used until its end
    (``"cpu_seconds"``). With a ``checkpoint``, the loop resumes where a killed run of the same
    configuration left off (the weights, the optimizer, the stopper, ``generator`` and the
    global random states) and saves every ``checkpoint.every`` epochs and at the end.

    Args:
        module: trained in place; holds the best (or last) weights in eval mode at the end.
        optimizer: the module's optimizer (saved and resumed with it).
        generator: the loop's random generator (its state is saved and resumed).
        epochs: the most epochs to run.
        eval_every: epochs between validation checks.
        patience: checks without improvement before stopping.
        train_epoch: one epoch, given its 1-based number; returns the mean loss, or a mapping of
            ``"loss"`` and further numbers to keep in the epoch's record (resumed with the history,
            so a count summed over the records survives a restart).
        validate: the validation score of the module as it stands, or ``None`` when there is
            nothing to validate on.
        checkpoint: where to save and resume the loop.
        progress: show a progress bar.
        desc: the progress bar's label.
        writes: whether this process writes checkpoints (under torchrun, rank 0 only).
        budget: the CPU time of training and validation together; resumed from the checkpoint.

    Returns:
        The history and the best validation score and epoch.
    """
    stopper = EarlyStopper(patience)
    trained = Trained()
    validating, start = validate is not None, 1
    loop = {"module": module, "optimizer": optimizer, "stopper": stopper, "generator": generator}
    if checkpoint is not None:
        resumed = checkpoint.resume(**loop)
        if resumed is not None:
            start = epochs + 1 if resumed["done"] else resumed["epoch"] + 1
            trained.history = resumed["extra"].get("history", [])
            validating = resumed["extra"].get("validating", validating)
            if budget is not None and trained.history:
                budget.restore(trained.history[-1].get("cpu_seconds", 0.0))
    bar = tqdm(range(start, epochs + 1), desc=desc, disable=not progress, leave=False, initial=start - 1,
               total=epochs)
    for epoch in bar:
        module.train()
        trained_epoch = train_epoch(epoch)
        values = trained_epoch if isinstance(trained_epoch, Mapping) else {"loss": trained_epoch}
        record: dict[str, Any] = {"epoch": epoch, **{k: float(v) for k, v in values.items()}}
        stop = spent = budget is not None and budget.spent()
        if validating and (epoch % eval_every == 0 or epoch == epochs or spent):
            module.eval()
            score = validate()
            if score is None:  # nothing to validate on: train every epoch
                validating = False
            else:
                record["val"] = float(score)
                stop = stopper.update(record["val"], module.state_dict, step=epoch) or spent
        if budget is not None:
            record["cpu_seconds"] = budget.used()
        trained.history.append(record)
        best = f"{stopper.best_score:.3f}" if stopper.best_step is not None else "-"
        bar.set_postfix(loss=f"{record['loss']:.4f}", val=best)
        last = stop or epoch == epochs
        if checkpoint is not None and writes and checkpoint.due(epoch, last=last):
            checkpoint.save(epoch, **loop, done=last, extra={"history": trained.history, "validating": validating})
        if stop:
            break
    if stopper.best_state is not None:
        module.load_state_dict(stopper.best_state)
    module.eval()
    if stopper.best_step is not None:
        trained.best_score, trained.best_epoch = stopper.best_score, stopper.best_step
    return trained


__all__ = ["Trained", "train_epochs"]
