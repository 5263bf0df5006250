"""Cosine kNN, the GraphBuilder (features and links -> HeteroData) and networkx conversion."""

from mmgraph.graph.builder import GraphBuilder
from mmgraph.graph.convert import from_networkx, to_networkx
from mmgraph.graph.knn import knn_cosine, knn_graph, knn_recall

__all__ = ["GraphBuilder", "from_networkx", "knn_cosine", "knn_graph", "knn_recall", "to_networkx"]
