"""Relation models: the heterogeneous GNN relation learner and its building blocks."""

from mmgraph.models.baselines import BASELINES
from mmgraph.models.decoders import DECODERS
from mmgraph.models.gnn import CONVOLUTIONS, HeteroGNN
from mmgraph.models.gnn_model import GNNModel
from mmgraph.models.relation_learner import RelationLearner, RelationLearnerConfig
from mmgraph.registry import Registry

MODELS: Registry[type] = Registry("model")
MODELS.register("gnn", GNNModel)
for _name, _baseline in BASELINES.items():  # cosine, siamese, fusion, ..., logreg, label-transfer
    MODELS.register(_name, _baseline)

__all__ = [
    "CONVOLUTIONS", "DECODERS", "MODELS", "GNNModel", "HeteroGNN", "RelationLearner",
    "RelationLearnerConfig",
]
