"""The test metrics of a fitted model: the task's declared questions, scored as a user's predictions are."""

from __future__ import annotations

import warnings

from mmgraph.data import CANDIDATE_SETS
from mmgraph.data.items import item_levels
from mmgraph.data.prepared import PreparedTask
from mmgraph.errors import (
    DataError,
)
from mmgraph.evaluation.evaluator import evaluate_label_queries, evaluate_link_auc, evaluate_link_queries
from mmgraph.models.base import RelationModel
from mmgraph.pipeline.validation import item_metrics


class UnseenLabelWarning(UserWarning):
    """Held-out samples carry a label that no training sample has: valid, but no model can predict it."""


def evaluate(model: RelationModel, prepared: PreparedTask, part: str = "test", *, seed: int = 0) -> dict[str, float]:
    """Metrics of a fitted model on one held-out part, through its scorer of new samples.

    Link tasks: the rank metrics of the declared candidate set without prefix, both candidate
    sets under ``"held-out/..."`` and ``"all/..."`` (a set that asks nothing is left out), and
    AUC/AP with negatives drawn like the declared candidates. Label tasks: accuracy, macro-F1.
    Item tasks: the same metrics of the items' question (:func:`evaluate_items`).
    """
    if prepared.task.query == "item":
        return evaluate_items(model, prepared, part, seed=seed)
    scorer = model.scorer(prepared.new_samples(part))
    if prepared.task.kind == "label":
        queries = prepared.label_queries(part)
        metrics = evaluate_label_queries(scorer.predict_labels, queries)
        if not metrics:
            raise DataError(f"The task {prepared.task.name!r} has no labelled {part} samples to evaluate.")
        seen = {int(c) for labels in prepared.train_view().labels.values() for c in labels[labels >= 0]}
        unseen = sorted({queries.classes[c] for c in queries.labels.tolist() if c not in seen})
        if unseen:  # valid (a new class exists), but no model can predict it: say so beside the numbers
            count = sum(queries.classes[c] in unseen for c in queries.labels.tolist())
            warnings.warn(
                f"{count} {part} samples of the task {prepared.task.name!r} carry labels no training sample has "
                f"({unseen[:5]}{' ...' if len(unseen) > 5 else ''}); no model can predict them, and they count as "
                "errors in accuracy and macro-F1.",
                UnseenLabelWarning, stacklevel=2,
            )
        return metrics
    metrics: dict[str, float] = {}
    for candidate_set in CANDIDATE_SETS:
        queries = prepared.link_queries(part, candidate_set)
        values = evaluate_link_queries(scorer.link_scores, queries)
        metrics.update({f"{candidate_set}/{k}": v for k, v in values.items()})
        if candidate_set == prepared.task.candidates:
            if not values:
                raise DataError(
                    f"The task {prepared.task.name!r} asks no cold {part} link from the {candidate_set!r} candidates: "
                    "no held-out sample of the query modality has a link of the evaluated type whose other end is a "
                    "candidate. Check the split (mode, hide) and the candidate set."
                )
            metrics.update(values)
            metrics.update(evaluate_link_auc(scorer.link_scores, queries, seed=seed))
    return metrics


def evaluate_items(
    model: RelationModel, prepared: PreparedTask, part: str = "test", *, seed: int = 0
) -> dict[str, float]:
    """Metrics of a fitted model on the held-out items of ``part`` (item tasks), through its
    :meth:`~mmgraph.models.base.RelationModel.item_scorer`.

    Link tasks: the rank metrics of the items' question against the declared candidate set,
    without prefix and under ``"<candidate set>/..."``, and AUC/AP with negatives drawn like the
    candidates; label tasks: accuracy and macro-F1; and ``num_items``, the items asked. (The
    probability each held-out sample was kept with is the task's ``keep``, in the result's task.)
    The headline metrics and ``num_items`` again at each level of
    :func:`~mmgraph.data.items.item_levels`, under ``"<level>/..."`` (``"keep=1/accuracy"``,
    ``"only=image/mrr"``): the same fitted model asked the same items with more or fewer samples.
    """
    items = prepared.item_queries(part)
    if len(items) == 0:
        raise DataError(
            f"The task {prepared.task.name!r} asks no {part} item: no held-out item has "
            f"{'a label' if prepared.task.kind == 'label' else 'an answer among the candidates'}. Check the split."
        )
    new = prepared.new_samples(part)
    scorer = model.item_scorer(new, items)
    own = item_metrics(scorer, items)
    metrics = dict(own)
    if prepared.task.kind == "link":
        metrics.update({f"{prepared.task.candidates}/{k}": v for k, v in own.items()})
        metrics.update(evaluate_link_auc(scorer.link_scores, {items.question.direction: items.question}, seed=seed))
    metrics["num_items"] = len(items)
    for level, options in item_levels(prepared.task.query_modalities(prepared.dataset.modalities)).items():
        asked = prepared.item_queries(part, **options)
        if len(asked):  # the task's own level is the one scored above
            headline = own if (asked.keep, asked.only) == (items.keep, items.only) else \
                item_metrics(model.item_scorer(new, asked), asked)
            metrics.update({f"{level}/{k}": v for k, v in headline.items() if "/" not in k})
            metrics[f"{level}/num_items"] = len(asked)
    return metrics
