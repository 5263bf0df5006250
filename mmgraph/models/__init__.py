"""Relation models: the heterogeneous GNN relation learner, its building blocks and the baselines.

Every model follows :class:`~mmgraph.models.base.RelationModel`: ``fit(train_view, validate=...)``
then ``scorer(new_samples)``. The models of knowledge-graph (``kg``) tasks, ``kg-<convolution>``,
fit on a :class:`~mmgraph.data.triples.TripleView` (:mod:`mmgraph.models.kg`).
"""

from mmgraph.models.base import (
    MODELS,
    ItemValidate,
    RelationModel,
    Scorer,
    Validate,
    item_models,
    models_for,
    savable_models,
)
from mmgraph.models.baselines import BASELINES
from mmgraph.models.decoders import DECODERS
from mmgraph.models.gnn import CONVOLUTIONS, HeteroGNN
from mmgraph.models.gnn_model import GNNConfig, GNNModel
from mmgraph.models.kg import KG_CONVOLUTIONS, KG_DECODERS, KG_MODELS
from mmgraph.models.learners import LEARNERS, RelationLearner, RelationLearnerConfig

MODELS.register("gnn", GNNModel)
for _name, _baseline in BASELINES.items():  # cosine, siamese, fusion, ..., logreg, label-transfer
    MODELS.register(_name, _baseline)
for _kg_model in KG_MODELS:  # kg-compgcn, kg-rgcn, kg-none
    MODELS.register(_kg_model.name, _kg_model)

RUN_CONVOLUTIONS: tuple[str, ...] = tuple(dict.fromkeys([*CONVOLUTIONS.names(), *KG_CONVOLUTIONS.names()]))
"""The choices of ``mmgraph run --conv``: the GNN's layers (link and label tasks), then the
knowledge-graph layers (kg tasks, where ``--conv X`` picks the model ``kg-X``)."""
RUN_DECODERS: tuple[str, ...] = tuple(dict.fromkeys([*DECODERS.names(), *KG_DECODERS.names()]))
"""The choices of ``mmgraph run --decoder``: the GNN's link decoders, then the knowledge-graph decoders."""

__all__ = [
    "CONVOLUTIONS", "DECODERS", "KG_CONVOLUTIONS", "KG_DECODERS", "LEARNERS", "MODELS", "RUN_CONVOLUTIONS",
    "RUN_DECODERS", "GNNConfig", "GNNModel", "HeteroGNN", "ItemValidate", "RelationLearner",
    "RelationLearnerConfig", "RelationModel", "Scorer", "Validate", "item_models", "models_for", "savable_models",
]
