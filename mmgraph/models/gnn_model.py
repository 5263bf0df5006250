"""The default relation learner, wrapped as a pipeline model."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.data import HeteroData

from mmgraph.evaluation.evaluator import evaluate_links, evaluate_node_labels
from mmgraph.models.baselines import NotApplicableError, label_sources
from mmgraph.models.propagation import PropagationGraph
from mmgraph.models.relation_learner import RelationLearner
from mmgraph.typing import EdgeType, NodeType

if TYPE_CHECKING:
    from mmgraph.pipeline import TaskData

# (restart probability, steps) of the propagation tried on the validation split.
PROPAGATION_SETTINGS: tuple[tuple[float, int], ...] = ((0.5, 2), (0.5, 4), (0.1, 10), (0.1, 20))
# Weights of each propagated feature space's score beside the learned link logits (0: unused;
# 1000: the propagation decides alone).
LINK_WEIGHTS: tuple[float, ...] = (0.0, 1.0, 3.0, 10.0, 1000.0)
LINK_EDGE_WEIGHT = 3.0  # weight of a known link beside similarity edges in the propagation
# Restart probabilities of label smoothing (1.0: the label head's predictions unchanged).
LABEL_ALPHAS: tuple[float, ...] = (1.0, 0.8, 0.5, 0.2)
LABEL_STEPS = 10


class GNNModel:
    """The default relation learner wrapped for the pipeline (see :class:`RelationLearner`).

    After training, the learned scores are refined by propagation over the same graph
    (:class:`~mmgraph.models.propagation.PropagationGraph`): a link score adds
    ``w_s <z_q, z_c> + w_d <z'_q, z'_c>`` where ``z`` and ``z'`` are the source and the target
    modality's features propagated through similarity and link edges (APPNP-style); label
    predictions are smoothed over the graph, Correct-and-Smooth style, with training labels
    clamped. The weights and the propagation settings are chosen on the validation split; the
    choice "learned score only" is always among them.

    Args:
        propagation: refine the learned scores by propagation (chosen on validation).
        temperature: sharpness of similarity edges in the propagation.
        **options: settings of :class:`RelationLearnerConfig`.
    """

    name = "gnn"

    def __init__(self, *, propagation: bool = True, temperature: float = 0.05, **options: Any) -> None:
        self.learner = RelationLearner(**options)
        self.propagation = propagation
        self.temperature = temperature
        self.chosen_: dict[str, Any] = {"weights": (0.0, 0.0), "alpha": 1.0, "steps": 0}
        self._propagation: tuple[HeteroData, PropagationGraph] | None = None

    def fit(self, data: TaskData, *, progress: bool = True) -> GNNModel:
        targets = [data.target_edge_type] if data.target_edge_type else []
        validate = None
        has_val_links = data.target_edge_type is not None and data.links("val").numel() > 0
        has_val_labels = data.task.kind == "label" and bool(
            np.any((data.node_split[data.task.source] == "val") & (data.labels[data.task.source].numpy() >= 0))
        )
        graph, label_mask = (
            _with_borrowed_labels(data) if data.task.kind == "label" else (data.graph, data.label_train_mask)
        )
        if has_val_links:
            def validate(learner: RelationLearner) -> float:
                self.refresh(graph)
                return evaluate_links(self, data, "val")["mrr"]
        elif has_val_labels:
            def validate(learner: RelationLearner) -> float:
                self.refresh(graph)
                return evaluate_node_labels(self, data, "val")["accuracy"]
        self.learner.fit(
            graph, target_edge_types=targets, maskable_edge_types=data.maskable_edge_types,
            num_classes=len(data.classes), label_train_mask=label_mask,
            validate=validate, progress=progress,
        )
        if self.propagation and (has_val_links or has_val_labels):
            self._choose(data, graph, links=has_val_links)
        self.refresh(graph)
        return self

    # ------------------------------------------------------------------ propagation
    def _choose(self, data: TaskData, graph: HeteroData, *, links: bool) -> None:
        """Picks the propagation settings and weights with the best validation score."""
        best = (-float("inf"), dict(self.chosen_))
        settings = PROPAGATION_SETTINGS if links else [(a, LABEL_STEPS) for a in LABEL_ALPHAS]
        for alpha, steps in settings:
            # Propagate once per setting (weights 1 switch every signal on), then vary the weights.
            self.chosen_ = {"weights": (1.0, 1.0), "alpha": alpha, "steps": steps}
            self.refresh(graph)
            weights = [(a, b) for a in LINK_WEIGHTS for b in LINK_WEIGHTS] if links else [(0.0, 0.0)]
            for pair in weights:
                self.chosen_["weights"] = pair
                score = (
                    evaluate_links(self, data, "val")["mrr"] if links
                    else evaluate_node_labels(self, data, "val")["accuracy"]
                )
                if score > best[0]:
                    best = (score, dict(self.chosen_))
        self.chosen_ = {**best[1], "val": best[0]}

    def refresh(self, graph: HeteroData) -> None:
        """Computes representations and propagated signals on ``graph`` (the fitted graph, or
        the fitted graph with new nodes attached)."""
        self._h = self.learner.embed(graph)
        self._z = None
        self._labels = None
        c = self.chosen_
        uses_links = any(w > 0 for w in c["weights"]) and self.learner.target_edge_types_
        uses_labels = c["alpha"] < 1 and self.learner.label_head_ is not None
        if not (uses_links or uses_labels):
            return
        # One normalised adjacency per graph, whatever the settings tried on it.
        if self._propagation is None or self._propagation[0] is not graph:
            self._propagation = (
                graph, PropagationGraph(graph, temperature=self.temperature, link_weight=LINK_EDGE_WEIGHT)
            )
        propagation = self._propagation[1]
        if uses_links:
            src, _, dst = self.learner.target_edge_types_[0]
            self._z = []
            for space in (src, dst):
                x = graph[space].x.float()
                signal = {space: F.normalize(x - x.mean(0), dim=1)}
                z = propagation.propagate(signal, alpha=c["alpha"], steps=c["steps"])
                self._z.append({t: F.normalize(z[t], dim=1) for t in (src, dst)})
        if uses_labels:
            start = {}
            for node_type in graph.node_types:
                p = torch.softmax(self.learner.label_logits(self._h, node_type), dim=1)
                y = graph[node_type].get("y")  # training labels only, -1 elsewhere
                if y is not None:
                    known = y >= 0
                    p[known] = F.one_hot(y[known], p.shape[1]).float()
                start[node_type] = p
            self._labels = propagation.propagate(start, alpha=c["alpha"], steps=c["steps"])

    # ------------------------------------------------------------------ the model interface
    def link_scores(self, edge_type: EdgeType, query: Tensor, candidates: Tensor, *, reverse: bool) -> Tensor:
        scores = self.learner.score(self._h, edge_type, query, candidates, reverse=reverse)
        if self._z is not None:
            src, _, dst = edge_type
            query_type, cand_type = (dst, src) if reverse else (src, dst)
            for weight, z in zip(self.chosen_["weights"], self._z, strict=True):
                if weight:
                    scores = scores + weight * (z[query_type][query] @ z[cand_type][candidates].T)
        return scores

    def predict_labels(self, node_type: NodeType) -> Tensor:
        if self._labels is not None:
            return self._labels[node_type].argmax(dim=1)
        return self.learner.label_logits(self._h, node_type).argmax(dim=1)

    def config(self) -> dict[str, Any]:
        return {
            **dataclasses.asdict(self.learner.config), "propagation": self.propagation,
            "propagation_temperature": self.temperature, "propagation_chosen": self.chosen_,
        }


def _with_borrowed_labels(data: TaskData) -> tuple[HeteroData, dict[NodeType, Tensor]]:
    """The graph and label mask, where a node type without training labels of its own borrows
    them through training links, as the label baselines do (see
    :func:`~mmgraph.models.baselines.label_sources`); ``digits-audio-label`` has labelled
    images and a few clips linked to them."""
    graph, mask = data.graph, dict(data.label_train_mask)
    for node_type in data.graph.node_types:
        if node_type not in mask or bool(mask[node_type].any()):
            continue
        try:
            nodes, labels, _ = label_sources(data, node_type)
        except NotApplicableError:
            continue
        if graph is data.graph:
            graph = data.graph.clone()
        y = graph[node_type].y.clone()
        y[nodes] = labels
        graph[node_type].y = y
        mask[node_type] = mask[node_type].clone()
        mask[node_type][nodes] = True
    return graph, mask
