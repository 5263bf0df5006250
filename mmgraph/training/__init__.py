"""Training helpers: cold-start masking of the relation learner, model selection and checkpoints for every model."""

from mmgraph.training.budget import CPUBudget
from mmgraph.training.checkpoint import Checkpoint
from mmgraph.training.masking import MaskedBatch, cold_start_batch
from mmgraph.training.negatives import SimilarNeighbours, split_links
from mmgraph.training.selection import Choice, EarlyStopper, grid_search

__all__ = [
    "CPUBudget", "Checkpoint", "Choice", "EarlyStopper", "MaskedBatch", "SimilarNeighbours", "cold_start_batch",
    "grid_search", "split_links",
]
