"""Model selection on validation: one early stopper and one grid search, for every model."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Generic, TypeVar

from tqdm.auto import tqdm

from mmgraph.checks import check_positive_int
from mmgraph.errors import ConfigError

S = TypeVar("S")


class EarlyStopper:
    """Keeps the best state seen on validation and says when to stop.

    Args:
        patience: checks without improvement before stopping.

    Example:
        >>> stopper = EarlyStopper(patience=2)
        >>> [stopper.update(s, lambda: {"w": s}, step=i) for i, s in enumerate([0.1, 0.3, 0.2, 0.25])]
        [False, False, False, True]
        >>> stopper.best_score, stopper.best_step, stopper.best_state
        (0.3, 1, {'w': 0.3})
    """

    def __init__(self, patience: int) -> None:
        self.patience = check_positive_int(patience, "patience", "EarlyStopper")
        self.best_score = -math.inf
        self.best_state: Any = None
        self.best_step: int | None = None
        self._stale = 0

    def __repr__(self) -> str:
        return f"EarlyStopper(patience={self.patience}, best_score={self.best_score}, best_step={self.best_step})"

    def update(self, score: float, state: Callable[[], Any], *, step: int) -> bool:
        """Records one check; ``state()`` is called (and deep-copied) only on improvement.

        Returns:
            Whether to stop: ``patience`` checks in a row without improvement.
        """
        if score > self.best_score:
            self.best_score, self.best_state, self.best_step, self._stale = score, copy.deepcopy(state()), step, 0
        else:
            self._stale += 1
        return self._stale >= self.patience

    def state(self) -> dict[str, Any]:
        """Where the stopper stands, as JSON values (the best state aside): for a checkpoint."""
        return {"best_score": self.best_score, "best_step": self.best_step, "stale": self._stale}

    def restore(self, state: Mapping[str, Any], best_state: Any) -> None:
        """Puts back what :meth:`state` returned and the best state it went with."""
        self.best_score, self.best_step, self._stale = float(state["best_score"]), state["best_step"], state["stale"]
        self.best_state = best_state


class Choice(Generic[S]):
    """The best setting for one metric key, and its score."""

    def __init__(self, setting: S, score: float) -> None:
        self.setting, self.score = setting, score

    def __repr__(self) -> str:
        return f"Choice(setting={self.setting!r}, score={self.score})"


def grid_search(
    settings: Sequence[S],
    evaluate: Callable[[S], Mapping[str, float]],
    *,
    keys: Sequence[str] = ("mrr",),
    desc: str = "grid",
    progress: bool = False,
) -> dict[str, Choice[S]]:
    """Tries every setting once and keeps the best one per metric key (the first on ties).

    A model choosing one setting per direction asks for ``("src->dst/mrr", "dst->src/mrr")``; a
    key the metrics never hold (a direction without validation questions) is left out.

    Returns:
        ``{key: Choice(setting, score)}``.

    Example:
        >>> best = grid_search([1, 2, 3], lambda s: {"a": -abs(s - 2), "b": s}, keys=("a", "b"))
        >>> best["a"].setting, best["b"].setting
        (2, 3)
    """
    if not settings:
        raise ConfigError("grid_search needs at least one setting to try.")
    best: dict[str, Choice[S]] = {}
    for setting in tqdm(settings, desc=desc, disable=not progress, leave=False):
        metrics = evaluate(setting)
        for key in keys:
            if key in metrics and (key not in best or metrics[key] > best[key].score):
                best[key] = Choice(setting, float(metrics[key]))
    return best
