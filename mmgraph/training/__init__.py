"""Training helpers: cold-start masking of the relation learner, and model selection for every model."""

from mmgraph.training.masking import MaskedBatch, cold_start_batch
from mmgraph.training.selection import Choice, EarlyStopper, grid_search

__all__ = ["Choice", "EarlyStopper", "MaskedBatch", "cold_start_batch", "grid_search"]
