"""Relation learners, one per training mode, behind one contract (:class:`Learner`).

- ``full`` (:class:`RelationLearner`): message passing over the whole graph in every step.
- ``minibatch`` (:class:`SIGNLearner`): propagation features computed once, then MLP towers
  trained over mini-batches of links; memory linear in the nodes, and the mode that runs
  under ``torchrun``.

:data:`LEARNERS` maps each training mode to its class; the GNN model's ``training`` setting and
the CLI's ``--training`` read it.
"""

from mmgraph.models.learners.base import (
    LEARNERS,
    Learner,
    LearnerNetwork,
    RelationLearnerConfig,
    TrainingGraph,
    take_rows,
)
from mmgraph.models.learners.full import RelationLearner
from mmgraph.models.learners.sign import PropagatedFeatures, SIGNLearner

for _learner in (RelationLearner, SIGNLearner):
    LEARNERS.register(_learner.training, _learner)

__all__ = [
    "LEARNERS", "Learner", "LearnerNetwork", "PropagatedFeatures", "RelationLearner", "RelationLearnerConfig",
    "SIGNLearner", "TrainingGraph", "take_rows",
]
