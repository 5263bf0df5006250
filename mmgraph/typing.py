"""Type aliases and names of graph keys, shared by every part of mmgraph (imports nothing of it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from torch import Tensor

NodeType = str
"""A modality name, used as the node type of the heterogeneous graph (``"image"``)."""

EdgeType = tuple[str, str, str]
"""``(source node type, relation, target node type)``, as in PyTorch Geometric."""

Direction = Literal["src->dst", "dst->src"]
DIRECTIONS: tuple[str, str] = ("src->dst", "dst->src")
"""The two directions a link is asked in: ``"src->dst"`` (query a source, rank targets) and
``"dst->src"``; ``reverse=False`` is ``"src->dst"``. Metrics of a direction are keyed
``"<direction>/<metric>"``."""

ScoreFn = Callable[["Tensor", "Tensor", bool], "Tensor"]
"""``score(query, candidates, reverse) -> scores``: the scores of one link type, every query
against every candidate, higher meaning more likely linked. ``reverse=False``: queries are
sources and candidates targets; ``True``: the other way round.

Shapes:
    query: ``(b,)``, candidates: ``(c,)``, returns ``(b, c)``.
"""


def edge_key(edge_type: EdgeType) -> str:
    """An edge type as one string key (of a ``ModuleDict`` or a tensor file), PyG's ``"src__rel__dst"``."""
    return "__".join(edge_type)
