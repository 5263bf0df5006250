"""The validation callback a model chooses its settings with: the task's validation questions, never the test's."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from torch import Tensor

from mmgraph.data.prepared import ItemQueries, LabelQueries, PreparedTask
from mmgraph.evaluation.evaluator import evaluate_label_queries, evaluate_link_queries
from mmgraph.models.base import ItemScoring, Scorer, Scoring, Validate
from mmgraph.typing import NodeType


class NoValidationWarning(UserWarning):
    """The split leaves nothing to validate on: valid, but models keep their default settings."""


def validator(prepared: PreparedTask, *, part: str = "val") -> Validate | None:
    """The validation callback of a prepared task: a scoring's scores of the validation samples,
    attached as new samples, on the questions of the task's declared candidate set. ``None``
    when validation asks nothing.

    An item task's callback is an :class:`ItemValidation`: it also scores the validation items
    (:meth:`ItemValidation.items`), and is returned when either question asks something.
    """
    new = prepared.new_samples(part)
    if prepared.task.kind == "link":
        queries = prepared.link_queries(part)

        def validate(scoring: Scoring, *, max_links: int | None = None) -> dict[str, float]:
            return evaluate_link_queries(scoring(new).link_scores, queries, max_links=max_links) if queries else {}
        asks = bool(queries)
    else:
        labels = prepared.label_queries(part)

        def validate(scoring: Scoring, *, max_links: int | None = None) -> dict[str, float]:
            return evaluate_label_queries(scoring(new).predict_labels, labels)
        asks = labels.nodes.numel() > 0
    if prepared.task.query == "item":
        items = prepared.item_queries(part)
        if len(items) == 0 and not asks:
            return None
        return ItemValidation(validate, new, items)
    return validate if asks else None


def item_metrics(scorer: Scorer, items: ItemQueries, *, max_links: int | None = None) -> dict[str, float]:
    """The metrics of ``scorer`` (an item scorer) on the question of ``items``, with the keys of the
    single-sample questions: the rank metrics of the items' link question (direction ``"src->dst"``)
    or the accuracy and macro-F1 of their labels. Empty when no item is asked."""
    if len(items) == 0:
        return {}
    if isinstance(items.question, LabelQueries):
        return evaluate_label_queries(scorer.predict_labels, items.question)
    return evaluate_link_queries(scorer.link_scores, {items.question.direction: items.question}, max_links=max_links)


class ItemValidation:
    """The validation callback of an item task (an :class:`~mmgraph.models.base.ItemValidate`).

    Called with a :data:`~mmgraph.models.base.Scoring`, it scores the single-sample question of
    the task's ``source`` (what models that select on single samples read); :meth:`items` scores
    an :data:`~mmgraph.models.base.ItemScoring` on the validation items.
    """

    def __init__(
        self, validate: Callable[..., dict[str, float]], new: Mapping[NodeType, Tensor], items: ItemQueries
    ) -> None:
        self._validate, self._new, self.item_queries = validate, new, items

    def __repr__(self) -> str:
        return f"ItemValidation({self.item_queries!r})"

    def __call__(self, scoring: Scoring, *, max_links: int | None = None) -> dict[str, float]:
        return self._validate(scoring, max_links=max_links)

    def items(self, scoring: ItemScoring, *, max_links: int | None = None) -> dict[str, float]:
        """The metrics of ``scoring`` on the validation items (see :func:`item_metrics`)."""
        return item_metrics(scoring(self._new, self.item_queries), self.item_queries, max_links=max_links)
