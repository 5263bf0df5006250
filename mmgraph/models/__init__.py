"""Relation models: the heterogeneous GNN relation learner, its building blocks and the baselines.

Every model follows :class:`~mmgraph.models.base.RelationModel`: ``fit(train_view, validate=...)``
then ``scorer(new_samples)``.
"""

from mmgraph.models.base import MODELS, RelationModel, Scorer, Validate, models_for, savable_models
from mmgraph.models.baselines import BASELINES
from mmgraph.models.decoders import DECODERS
from mmgraph.models.gnn import CONVOLUTIONS, HeteroGNN
from mmgraph.models.gnn_model import GNNConfig, GNNModel
from mmgraph.models.learners import LEARNERS, RelationLearner, RelationLearnerConfig

MODELS.register("gnn", GNNModel)
for _name, _baseline in BASELINES.items():  # cosine, siamese, fusion, ..., logreg, label-transfer
    MODELS.register(_name, _baseline)

__all__ = [
    "CONVOLUTIONS", "DECODERS", "LEARNERS", "MODELS", "GNNConfig", "GNNModel", "HeteroGNN", "RelationLearner",
    "RelationLearnerConfig", "RelationModel", "Scorer", "Validate", "models_for", "savable_models",
]
