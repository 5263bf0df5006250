"""Evaluation of a fitted model on one split part of a prepared task."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import Tensor

from mmgraph.evaluation.classification import evaluate_labels
from mmgraph.evaluation.ranking import (
    evaluate_link_classification,
    evaluate_link_ranking,
    sample_negatives,
)
from mmgraph.typing import EdgeType

if TYPE_CHECKING:
    from mmgraph.pipeline import TaskData


def evaluate_links(
    model: Any, data: TaskData, part: str, *, batch_size: int = 512, max_links: int | None = None, seed: int = 0
) -> dict[str, float]:
    """Filtered rank metrics of ``model`` on the target links of one split part.

    Args:
        max_links: rank only a fixed random subset of this many links (drawn with ``seed``)
            when the part has more; the candidate pools stay whole. For cheap early-stopping
            checks of models that score every pair with a network; test metrics use all links.
    """
    edges = data.links(part)
    if edges.numel() == 0:
        raise ValueError(f"The task {data.task.name!r} has no {part} links to evaluate.")
    src_type, _, dst_type = data.target_edge_type
    pool_src = data.pool(src_type, part, edges, 0)
    pool_dst = data.pool(dst_type, part, edges, 1)
    if max_links is not None and edges.shape[1] > max_links:
        keep = torch.randperm(edges.shape[1], generator=torch.Generator().manual_seed(seed))[:max_links]
        edges = edges[:, keep.sort().values]

    def score_fn(query: Tensor, direction: str) -> Tensor:
        if direction == "src->dst":
            return model.link_scores(data.target_edge_type, query, pool_dst, reverse=False)
        return model.link_scores(data.target_edge_type, query, pool_src, reverse=True)

    metrics = evaluate_link_ranking(
        score_fn, edges, num_src=data.graph[src_type].num_nodes, num_dst=data.graph[dst_type].num_nodes,
        known_edges=data.known_links, candidates_src=pool_src, candidates_dst=pool_dst,
        batch_size=batch_size,
    )
    return metrics


def evaluate_link_auc(model: Any, data: TaskData, part: str, *, seed: int) -> dict[str, float]:
    """AUC and AP of the target links of one part against as many sampled non-links."""
    edges = data.links(part)
    src_type, _, dst_type = data.target_edge_type
    negatives = sample_negatives(
        edges, num_src=data.graph[src_type].num_nodes, num_dst=data.graph[dst_type].num_nodes,
        known_edges=data.known_links, generator=torch.Generator().manual_seed(seed),
    )
    return evaluate_link_classification(
        _pair_scores(model, data.target_edge_type, edges), _pair_scores(model, data.target_edge_type, negatives)
    )


def _pair_scores(model: Any, edge_type: EdgeType, pairs: Tensor, chunk: int = 512) -> Tensor:
    out = []
    for start in range(0, pairs.shape[1], chunk):
        s, d = pairs[0, start : start + chunk], pairs[1, start : start + chunk]
        out.append(model.link_scores(edge_type, s, d, reverse=False).diagonal())
    return torch.cat(out)


def evaluate_node_labels(model: Any, data: TaskData, part: str) -> dict[str, float]:
    """Accuracy and macro-F1 on the labelled nodes of the task's modality in one part."""
    node_type = data.task.source
    y = data.labels[node_type]
    nodes = torch.as_tensor(np.flatnonzero((data.node_split[node_type] == part) & (y.numpy() >= 0)))
    if nodes.numel() == 0:
        raise ValueError(f"The task {data.task.name!r} has no labelled {part} nodes of {node_type!r}.")
    predicted = model.predict_labels(node_type)[nodes]
    classes = np.asarray(data.classes, dtype=object)
    return evaluate_labels(classes[y[nodes].numpy()].tolist(), classes[predicted.numpy()].tolist())


