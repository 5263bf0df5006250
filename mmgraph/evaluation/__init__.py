"""Evaluation: filtered rank metrics for links, AUC/AP on sampled negatives, label metrics."""

from mmgraph.evaluation.classification import evaluate_labels
from mmgraph.evaluation.ranking import (
    evaluate_link_classification,
    evaluate_link_ranking,
    link_ranks,
    rank_of_true,
    ranking_metrics,
    sample_negatives,
)

__all__ = [
    "evaluate_labels",
    "evaluate_link_classification",
    "evaluate_link_ranking",
    "link_ranks",
    "rank_of_true",
    "ranking_metrics",
    "sample_negatives",
]
