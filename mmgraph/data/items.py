"""Held-out items as queries: which of an item's samples a query keeps.

A user's question is often about an item that comes with what it has: a new emoji with its
drawing and its names in three of eleven languages. An item task (``Task(query="item")``) asks
its question of held-out items: an item is the set of its held-out samples of the query
modalities (every modality of the task but the target), and each sample is kept with
probability ``keep``, so the table can show how a method degrades as modalities go missing.
:class:`~mmgraph.data.prepared.ItemQueries` (from :meth:`PreparedTask.item_queries
<mmgraph.data.prepared.PreparedTask.item_queries>`) holds the kept samples and the question.

The draw is the same for every model: one uniform number per sample of the dataset, drawn
from the run's seed on a stream of its own (:func:`sample_draws`), decides each sample's fate
at every ``keep``. A sample is kept where its number is below ``keep``, and each item keeps
its sample of the smallest number in any case, so no item is left empty. An item's kept samples
at ``keep=0.25`` are therefore among those it keeps at ``0.5``, which are among those at ``1.0``:
the levels differ only by what they leave out.
"""

from __future__ import annotations

import numpy as np

ITEM_DRAW_STREAM = 22
"""The stream of the run's seed that draws the kept samples (``default_rng([seed, 22])``): its own,
so that the draw does not move when the split or a model draws more or fewer numbers."""


def sample_draws(num_samples: int, *, seed: int) -> np.ndarray:
    """One uniform number in ``[0, 1)`` per sample of a dataset, in the order of its samples table.

    Shapes:
        return: ``(num_samples,)`` float64.
    """
    return np.random.default_rng([seed, ITEM_DRAW_STREAM]).random(num_samples)


def kept_samples(items: np.ndarray, draws: np.ndarray, keep: float) -> np.ndarray:
    """Which samples their items keep: those drawn below ``keep``, and each item's lowest draw.

    Args:
        items: the item of each sample (any hashable ids or indices).
        draws: each sample's number from :func:`sample_draws`.
        keep: the probability of keeping a sample, in ``(0, 1]``.

    Returns:
        A mask of the kept samples; every item keeps at least one.

    Example:
        >>> kept_samples(np.array([0, 0, 1, 1]), np.array([0.7, 0.2, 0.9, 0.6]), 0.5).tolist()
        [False, True, False, True]

    Shapes:
        items, draws and return: ``(n,)``.
    """
    kept = draws < keep
    if len(items):
        _, item_index = np.unique(items, return_inverse=True)
        order = np.lexsort((draws, item_index))  # by item, then by draw
        first = np.r_[True, item_index[order][1:] != item_index[order][:-1]]
        kept[order[first]] = True
    return kept
