"""Relation learners: the heterogeneous GNN and (later) the classical baselines."""

from mmgraph.models.decoders import DECODERS
from mmgraph.models.gnn import CONVOLUTIONS, HeteroGNN
from mmgraph.models.relation_learner import RelationLearner, RelationLearnerConfig

__all__ = ["CONVOLUTIONS", "DECODERS", "HeteroGNN", "RelationLearner", "RelationLearnerConfig"]
