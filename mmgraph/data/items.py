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

How models answer items (the design; built as described unless said otherwise)
------------------------------------------------------------------------------
*What a model receives.* The held-out samples reach a model as today, as new samples by
modality (``PreparedTask.new_samples(part)``), plus the grouping of
:class:`~mmgraph.data.prepared.ItemQueries`:
``members[m]`` (scoring indices) and ``member_items[m]`` (their item). Models gain one method
beside :meth:`RelationModel.scorer <mmgraph.models.base.RelationModel.scorer>`::

    scorer = model.item_scorer(new, items)        # new: {modality: (n_m, dim)}; items: ItemQueries
    scorer.link_scores((ITEM, rel, target), item_index, candidates, reverse=False)  # (b, c)
    scorer.predict_labels(ITEM)                   # (num_items,)

so the evaluator ranks ``items.question`` (a LinkQueries whose queries are item indices) with
its existing :func:`~mmgraph.evaluation.evaluator.evaluate_link_queries`, and labels it with
``evaluate_label_queries``: no new metric code, the same filtered ranking. The candidates are
new target samples attached as single samples are now, each alone: a candidate is never linked
to the item it may answer (that link is the answer).

*The learner's inductive attach of an item.* Each kept sample is attached as a single new
sample is (``GraphBuilder.neighbours``: it receives from its ``k`` most similar training nodes
of its modality, never sends to them). Then the item's samples are linked to each other by the
relation the training graph uses for one item's samples (``same_item`` between every pair of
modalities present, both directions), so each sample also receives the messages a training
sample receives from its item partners (in ``PropagatedFeatures``: its ``via_<relation>``
blocks, today zero for a new sample, are filled from its partners' own attached
representations; in the message-passing learner: the partner edges are added to the attached
subgraph). Samples of different items are never linked and nothing flows into the training
graph, so an item scores the same alone or in a batch of items; removing one sample changes
that item's scores only. The item's score for a link is the score of its samples for the
target relation pooled over the samples present (mean of the per-modality scores, each
modality's weight chosen on validation items, as the link-term weights are now); its label
is the label head on the mean of its samples' representations. Training sees items too:
each training item drops samples with the task's ``keep`` (cold-start masking, seeded per
epoch), so the learner meets partial items before the held-out ones.

*Prediction.* ``Predictor.predict_items(inputs, items, k=...)`` takes payloads (or features)
with an item id each, encodes them per modality, builds the :class:`ItemQueries` of that
input (``keep`` 1, every sample given), and returns one row per item and label, or per item
and top-``k`` candidate of the task's declared catalogue, as ``predict_links`` does for one
sample: the same function the evaluator calls. ``mmgraph predict --item`` and a manifest's
``item`` column feed it. The fusion baselines implement ``item_scorer`` from the same
ingredients (per-modality features with a missing indicator, or per-modality models combined
over the modalities present).

*Status.* Built: ``item_scorer`` (the base raises and names :func:`~mmgraph.models.base.item_models`),
item validation (``ItemValidation``) and evaluation (``evaluate_items``) in the pipeline and
``mmgraph bench``; the learner's attach of an item with partner links in the message-passing
(full-batch) learner, an item's link score as the mean of its samples' learned scores (equal
weights) and its label from the mean of their representations; the fusion baselines
``items-concat``, ``items-mlp``, ``items-average``, ``items-combiner``, ``items-single`` and the
attention fusion over the present modalities ``items-attention``, which save (their fitted heads
as arrays) as the learner does; prediction as described above (``Predictor.predict_items``,
``mmgraph predict --item ITEM_ID --input ...`` and ``--inputs-from`` a CSV with an ``item``
column; a label row holds the class only: the scorers give no probability); the learner's epoch
chosen on the validation items (the single-sample terms, propagation, ridge map and hubness, are
left out of an item task's model); the learner's training items dropped with ``keep`` as an option
(each training sample keeps its partner links with probability ``item_keep``, the task's ``keep`` with
``item_keep=None``, at each step: :func:`~mmgraph.training.masking.drop_item_samples`; off by default,
as it did not help on validation); the test items asked again at every level
of :func:`item_levels` by the same fitted model. Not yet: per-modality weights of the item score; the
mini-batch learner (it raises).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mmgraph.typing import NodeType

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


LEVEL_PREFIXES: tuple[str, ...] = ("keep=", "only=")
"""How the names of the levels begin, and so the keys of an item task's metrics at a level (``"keep=0.5/accuracy"``)."""

ITEM_KEEPS: tuple[float, ...] = (1.0, 0.5, 0.25)
"""The shares of kept samples that every item task's test items are also asked at (:func:`item_levels`)."""


def item_levels(modalities: Sequence[NodeType]) -> dict[str, dict[str, float | NodeType]]:
    """The levels an item task's test items are asked at besides the task's own, by name (as the
    task variants are named): each of :data:`ITEM_KEEPS` (``"keep=0.5"``) and each query modality
    alone (``"only=image"``), as the keyword arguments of :meth:`PreparedTask.item_queries
    <mmgraph.data.prepared.PreparedTask.item_queries>`.

    One fitted model answers every level (its settings chosen on the validation items at the
    task's own ``keep``), so a table of levels shows how one model degrades as modalities go
    missing, at the cost of one fit.

    Example:
        >>> list(item_levels(["image", "text_fr"]))
        ['keep=1', 'keep=0.5', 'keep=0.25', 'only=image', 'only=text_fr']
    """
    levels: dict[str, dict[str, float | NodeType]] = {f"keep={keep:g}": {"keep": keep} for keep in ITEM_KEEPS}
    return levels | {f"only={m}": {"only": m} for m in modalities}
