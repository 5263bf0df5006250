"""Evaluation: filtered rank metrics for links and knowledge-graph triples, AUC/AP on sampled negatives, label
metrics."""

from mmgraph.evaluation.classification import evaluate_labels
from mmgraph.evaluation.evaluator import evaluate_label_queries, evaluate_link_auc, evaluate_link_queries
from mmgraph.evaluation.kg import KnownTriples, evaluate_cold_triples, evaluate_triples, triple_metrics, triple_ranks
from mmgraph.evaluation.ranking import (
    evaluate_link_classification,
    link_ranks,
    rank_of_true,
    ranking_metrics,
)

__all__ = [
    "KnownTriples",
    "evaluate_cold_triples",
    "evaluate_label_queries",
    "evaluate_labels",
    "evaluate_link_auc",
    "evaluate_link_queries",
    "evaluate_link_classification",
    "evaluate_triples",
    "link_ranks",
    "rank_of_true",
    "ranking_metrics",
    "triple_metrics",
    "triple_ranks",
]
