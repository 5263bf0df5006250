"""A CPU-time budget of a training run, counted across the resumes of a killed run."""

from __future__ import annotations

import math
import time

from mmgraph.errors import ConfigError


class CPUBudget:
    """The CPU seconds (``time.process_time``: every thread of this process together) a run may use.

    :func:`mmgraph.training.loop.train_epochs` stops after the epoch in which the budget is spent
    (validating that epoch first) and keeps the seconds used in its checkpoint, so a resumed run
    goes on with what is left; an epoch may check :meth:`spent` between its batches to stop sooner.
    With ``n`` torch threads on an idle machine, ``seconds`` is about ``seconds / n`` wall seconds.

    Args:
        seconds: the CPU seconds allowed, positive (``math.inf``: no limit).

    Example:
        >>> budget = CPUBudget(60.0)
        >>> budget.spent()
        False
        >>> budget
        CPUBudget(seconds=60.0, used=0.0)
    """

    def __init__(self, seconds: float) -> None:
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not seconds > 0:
            raise ConfigError(
                f"The 'seconds' parameter of CPUBudget must be a positive number of CPU seconds. Got {seconds!r} "
                "instead."
            )
        self.seconds = float(seconds)
        self.used_before = 0.0  # by the runs this one resumes
        self._start = time.process_time()

    def __repr__(self) -> str:
        return f"CPUBudget(seconds={self.seconds}, used={round(self.used(), 1)})"

    def used(self) -> float:
        """CPU seconds used so far: before the resume and since this budget was made."""
        return self.used_before + time.process_time() - self._start

    def spent(self) -> bool:
        """Whether the budget is used up."""
        return not math.isinf(self.seconds) and self.used() >= self.seconds

    def restore(self, used: float) -> None:
        """Counts ``used`` CPU seconds of the run being resumed, and starts counting this process's anew."""
        self.used_before, self._start = float(used), time.process_time()
