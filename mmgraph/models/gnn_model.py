"""The default relation learner, wrapped as a pipeline model."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np
from torch import Tensor

from mmgraph.evaluation.evaluator import evaluate_links, evaluate_node_labels
from mmgraph.models.relation_learner import RelationLearner
from mmgraph.typing import EdgeType, NodeType

if TYPE_CHECKING:
    from mmgraph.pipeline import TaskData


class GNNModel:
    """The default relation learner wrapped for the pipeline (see :class:`RelationLearner`)."""

    name = "gnn"

    def __init__(self, **options: Any) -> None:
        self.learner = RelationLearner(**options)

    def fit(self, data: TaskData, *, progress: bool = True) -> GNNModel:
        targets = [data.target_edge_type] if data.target_edge_type else []
        validate = None
        if data.target_edge_type is not None and data.links("val").numel():
            def validate(learner: RelationLearner) -> float:
                self._h = learner.embed(data.graph)
                return evaluate_links(self, data, "val")["mrr"]
        elif data.task.kind == "label" and any(np.any(s == "val") for s in data.node_split.values()):
            def validate(learner: RelationLearner) -> float:
                self._h = learner.embed(data.graph)
                return evaluate_node_labels(self, data, "val")["accuracy"]
        self.learner.fit(
            data.graph, target_edge_types=targets, maskable_edge_types=data.maskable_edge_types,
            num_classes=len(data.classes), label_train_mask=data.label_train_mask,
            validate=validate, progress=progress,
        )
        self._h = self.learner.embed(data.graph)
        return self

    def link_scores(self, edge_type: EdgeType, query: Tensor, candidates: Tensor, *, reverse: bool) -> Tensor:
        return self.learner.score(self._h, edge_type, query, candidates, reverse=reverse)

    def predict_labels(self, node_type: NodeType) -> Tensor:
        return self.learner.label_logits(self._h, node_type).argmax(dim=1)

    def config(self) -> dict[str, Any]:
        return dataclasses.asdict(self.learner.config)


