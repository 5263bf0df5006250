"""Negatives of the link loss whose size does not grow with the training pool: chunks of the
supervised links (in-batch softmax inside each) and hard negatives from the similarity graph."""

from __future__ import annotations

import torch
from torch import Tensor


def split_links(links: Tensor, batch_size: int, generator: torch.Generator) -> list[Tensor]:
    """Splits supervised links into chunks of at most ``batch_size`` links.

    Up to ``batch_size`` links stay one chunk, in their order, and nothing is drawn from
    ``generator``: a small pool trains exactly as one softmax over all of it. A larger pool is
    shuffled with ``generator`` and cut into ``ceil(n / batch_size)`` chunks of nearly equal
    size (no small last chunk with few negatives).

    Shapes:
        links: ``(2, n)``; return: chunks ``(2, n_i)``, ``sum(n_i) == n``, ``n_i <= batch_size``.
    """
    n = links.shape[1]
    if n <= batch_size:
        return [links]
    order = torch.randperm(n, generator=generator)
    return list(links[:, order].tensor_split(-(-n // batch_size), dim=1))


class SimilarNeighbours:
    """The similarity-graph neighbours of each node of one type, for drawing hard negatives.

    A node's neighbours are the sources of its similarity edges (the nodes it reads messages
    from: its ``k`` nearest by feature).

    Args:
        edge_index: the similarity edges ``(t, similar, t)``.
        num_nodes: the number of nodes of the type.

    Shapes:
        edge_index: ``(2, m)``.
    """

    def __init__(self, edge_index: Tensor, num_nodes: int) -> None:
        order = torch.argsort(edge_index[1], stable=True)
        self._neighbour = edge_index[0, order]
        self._ptr = torch.zeros(num_nodes + 1, dtype=torch.long)
        self._ptr[1:] = torch.cumsum(torch.bincount(edge_index[1], minlength=num_nodes), dim=0)

    def __repr__(self) -> str:
        return f"SimilarNeighbours(num_nodes={len(self._ptr) - 1}, num_edges={self._neighbour.numel()})"

    def draw(self, nodes: Tensor, per_node: int, generator: torch.Generator) -> Tensor:
        """``per_node`` neighbours of each of ``nodes``, uniformly with replacement; a node without
        neighbours gives none.

        Shapes:
            nodes: ``(n,)``; return: ``(<= n * per_node,)``.
        """
        start = self._ptr[nodes]
        count = self._ptr[nodes + 1] - start
        draws = torch.rand(len(nodes), per_node, generator=generator)
        has = count > 0
        offset = (draws[has] * count[has, None]).long().clamp(max=(count[has, None] - 1))
        return self._neighbour[(start[has, None] + offset).flatten()]
