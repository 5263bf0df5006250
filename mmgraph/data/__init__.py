"""Samples, known links, manifests, leak-proof splits, tasks and the prepared views models read."""

from mmgraph.data.dataset import MultimodalDataset
from mmgraph.data.manifest import from_manifest
from mmgraph.data.split import DatasetSplit, split_dataset
from mmgraph.data.task import CANDIDATE_SETS, Task
from mmgraph.errors import DataError

__all__ = [
    "CANDIDATE_SETS", "DataError", "DatasetSplit", "MultimodalDataset", "Task", "from_manifest", "split_dataset",
]
