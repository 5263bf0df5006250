"""Samples, known links, manifests and leak-proof splits."""

from mmgraph.data.dataset import DataError, MultimodalDataset
from mmgraph.data.manifest import from_manifest
from mmgraph.data.split import DatasetSplit, split_dataset

__all__ = ["DataError", "DatasetSplit", "MultimodalDataset", "from_manifest", "split_dataset"]
