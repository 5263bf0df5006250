"""Type aliases for graph keys, shared by every part of mmgraph."""

from __future__ import annotations

NodeType = str
"""A modality name, used as the node type of the heterogeneous graph (``"image"``)."""

EdgeType = tuple[str, str, str]
"""``(source node type, relation, target node type)``, as in PyTorch Geometric."""
