"""The one epoch loop: early stopping keeps the best weights, no validation question trains every epoch."""

from __future__ import annotations

import torch

from mmgraph.training.loop import train_epochs


def _setup() -> tuple[torch.nn.Linear, torch.optim.Optimizer, torch.Generator]:
    module = torch.nn.Linear(1, 1, bias=False)
    torch.nn.init.zeros_(module.weight)
    return module, torch.optim.SGD(module.parameters(), lr=1.0), torch.Generator().manual_seed(0)


def _step(module: torch.nn.Linear) -> float:
    with torch.no_grad():
        module.weight += 1.0  # epoch e leaves weight e
    return float(module.weight)


def test_it_stops_after_patience_checks_and_keeps_the_best_weights() -> None:
    module, optimizer, generator = _setup()
    scores = iter([0.1, 0.5, 0.4, 0.3, 0.9])  # best at the second check (epoch 4), then two worse
    trained = train_epochs(module, optimizer, generator, epochs=10, eval_every=2, patience=2,
                           train_epoch=lambda epoch: _step(module), validate=lambda: next(scores), progress=False)
    assert [r["epoch"] for r in trained.history] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert [r.get("val") for r in trained.history] == [None, 0.1, None, 0.5, None, 0.4, None, 0.3]
    assert (trained.best_epoch, trained.best_score) == (4, 0.5)
    assert float(module.weight) == 4.0 and not module.training


def test_without_validation_questions_it_trains_every_epoch() -> None:
    module, optimizer, generator = _setup()
    calls = []
    trained = train_epochs(module, optimizer, generator, epochs=5, eval_every=1, patience=1,
                           train_epoch=lambda epoch: _step(module), validate=lambda: calls.append(1), progress=False)
    assert len(calls) == 1 and len(trained.history) == 5  # asked once, found nothing, never asked again
    assert trained.best_epoch is None and trained.best_score is None and float(module.weight) == 5.0


class _Clock:
    """A process clock that a test advances by hand: one CPU second per training epoch."""

    def __init__(self) -> None:
        self.now = 0.0

    def process_time(self) -> float:
        return self.now


def _timed_step(module: torch.nn.Linear, clock: _Clock) -> float:
    clock.now += 1.0
    return _step(module)


def test_a_cpu_budget_stops_after_the_epoch_that_spends_it_and_validates_that_epoch(monkeypatch) -> None:
    from mmgraph.training import budget as budget_module

    clock = _Clock()
    monkeypatch.setattr(budget_module, "time", clock)
    module, optimizer, generator = _setup()
    trained = train_epochs(module, optimizer, generator, epochs=10, eval_every=5, patience=3,
                           train_epoch=lambda epoch: _timed_step(module, clock), validate=lambda: 0.5,
                           progress=False, budget=budget_module.CPUBudget(2.5))
    assert [r["epoch"] for r in trained.history] == [1, 2, 3]
    assert [r.get("val") for r in trained.history] == [None, None, 0.5]
    assert [r["cpu_seconds"] for r in trained.history] == [1.0, 2.0, 3.0]


def test_a_resumed_run_counts_the_cpu_seconds_used_before_it(monkeypatch, tmp_path) -> None:
    from mmgraph.training import budget as budget_module
    from mmgraph.training.checkpoint import Checkpoint

    clock = _Clock()
    monkeypatch.setattr(budget_module, "time", clock)

    def killed_at_3(module: torch.nn.Linear, epoch: int) -> float:
        if epoch == 3:
            raise KeyboardInterrupt
        return _timed_step(module, clock)

    def run(train_epoch) -> list[dict]:
        module, optimizer, generator = _setup()
        return train_epochs(module, optimizer, generator, epochs=10, eval_every=1, patience=10,
                            train_epoch=lambda epoch: train_epoch(module, epoch), validate=lambda: 0.5,
                            progress=False, budget=budget_module.CPUBudget(4.5),
                            checkpoint=Checkpoint(tmp_path, fingerprint="sha256:0", every=1)).history

    try:
        run(killed_at_3)
    except KeyboardInterrupt:
        pass
    clock.now = 100.0  # a new process: its clock says nothing of the killed one's
    history = run(lambda module, epoch: _timed_step(module, clock))
    assert [r["epoch"] for r in history] == [1, 2, 3, 4, 5]  # 2 seconds before the kill, 3 after it
    assert [r["cpu_seconds"] for r in history] == [1.0, 2.0, 3.0, 4.0, 5.0]
