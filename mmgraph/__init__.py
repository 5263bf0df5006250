"""mmgraph: multimodal relation learning on heterogeneous graphs.

Samples of several modalities become typed nodes of a ``torch_geometric.data.HeteroData``
graph, connected by feature similarity and known cross-modal links; a GNN relation learner
predicts missing cross-modal links and labels.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mmgraph")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
