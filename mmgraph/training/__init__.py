"""Training helpers of the relation learner."""

from mmgraph.training.masking import MaskedBatch, cold_start_batch

__all__ = ["MaskedBatch", "cold_start_batch"]
