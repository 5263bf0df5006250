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
