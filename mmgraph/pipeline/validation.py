"""The validation callback a model chooses its settings with: the task's validation questions, never the test's."""

from __future__ import annotations

from mmgraph.data.prepared import PreparedTask
from mmgraph.evaluation.evaluator import evaluate_label_queries, evaluate_link_queries
from mmgraph.models.base import Scoring, Validate


class NoValidationWarning(UserWarning):
    """The split leaves nothing to validate on: valid, but models keep their default settings."""


def validator(prepared: PreparedTask, *, part: str = "val") -> Validate | None:
    """The validation callback of a prepared task: a scoring's scores of the validation samples,
    attached as new samples, on the questions of the task's declared candidate set. ``None``
    when validation asks nothing."""
    new = prepared.new_samples(part)
    if prepared.task.kind == "link":
        queries = prepared.link_queries(part)
        if not queries:
            return None

        def validate(scoring: Scoring, *, max_links: int | None = None) -> dict[str, float]:
            return evaluate_link_queries(scoring(new).link_scores, queries, max_links=max_links)
    else:
        labels = prepared.label_queries(part)
        if labels.nodes.numel() == 0:
            return None

        def validate(scoring: Scoring, *, max_links: int | None = None) -> dict[str, float]:
            return evaluate_label_queries(scoring(new).predict_labels, labels)
    return validate
