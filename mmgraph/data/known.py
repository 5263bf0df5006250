"""One lookup of known (query, target) pairs, for filtered ranking, loss masks and negatives."""

from __future__ import annotations

import torch
from torch import Tensor


class KnownPairs:
    """A set of known ``(query, target)`` pairs, grouped by query node (compressed rows).

    Used wherever something must not count a true link as a negative: filtered ranking, the
    masks of softmax losses, sampled non-links.

    Args:
        pairs: the known pairs, ``[query indices, target indices]``.
        num_query: the number of query nodes.
        num_target: the number of target nodes.

    Shapes:
        pairs: ``(2, m)``.

    Example:
        >>> known = KnownPairs(torch.tensor([[0, 0, 2], [1, 3, 0]]), num_query=3, num_target=4)
        >>> known.mask(torch.tensor([0, 1]), torch.tensor([3, 1, 2])).tolist()
        [[True, True, False], [False, False, False]]
        >>> known.contains(torch.tensor([0, 2]), torch.tensor([3, 3])).tolist()
        [True, False]
    """

    def __init__(self, pairs: Tensor, *, num_query: int, num_target: int) -> None:
        pairs = torch.as_tensor(pairs).long().reshape(2, -1)
        self.num_query, self.num_target = int(num_query), int(num_target)
        order = torch.argsort(pairs[0], stable=True)
        self._target = pairs[1, order]
        self._ptr = torch.zeros(self.num_query + 1, dtype=torch.long)
        self._ptr[1:] = torch.cumsum(torch.bincount(pairs[0], minlength=self.num_query), dim=0)
        self._keys = torch.unique(pairs[0] * self.num_target + pairs[1])

    def __len__(self) -> int:
        return int(self._keys.numel())

    def __repr__(self) -> str:
        return f"KnownPairs(num_pairs={len(self)}, num_query={self.num_query}, num_target={self.num_target})"

    def targets_of(self, queries: Tensor) -> tuple[Tensor, Tensor]:
        """Every known target of ``queries``, as ``(row, target)``: ``target`` is known for ``queries[row]``."""
        queries = queries.long()
        start = self._ptr[queries]
        count = self._ptr[queries + 1] - start
        row = torch.repeat_interleave(torch.arange(len(queries)), count)
        first_of_row = torch.cumsum(count, dim=0) - count
        within_row = torch.arange(row.numel()) - first_of_row[row]
        return row, self._target[start[row] + within_row]

    def contains(self, query: Tensor, target: Tensor) -> Tensor:
        """``True`` where ``(query[i], target[i])`` is a known pair. Shapes: ``(n,)`` -> ``(n,)`` bool."""
        keys = query.long() * self.num_target + target.long()
        if self._keys.numel() == 0:
            return torch.zeros_like(keys, dtype=torch.bool)
        at = torch.searchsorted(self._keys, keys).clamp(max=self._keys.numel() - 1)
        return self._keys[at] == keys

    def mask(self, queries: Tensor, candidates: Tensor) -> Tensor:
        """``mask[i, j]`` is ``True`` where ``(queries[i], candidates[j])`` is a known pair.

        Shapes:
            queries: ``(b,)``; candidates: ``(c,)`` distinct; return: ``(b, c)`` bool.
        """
        position = torch.full((self.num_target,), -1, dtype=torch.long)
        position[candidates.long()] = torch.arange(len(candidates))
        row, target = self.targets_of(queries)
        column = position[target]
        keep = column >= 0
        mask = torch.zeros(len(queries), len(candidates), dtype=torch.bool)
        mask[row[keep], column[keep]] = True
        return mask


class SameLabelPairs:
    """The pairs ``(query, target)`` whose labels are equal, answered from the labels alone.

    The relation "same label" (a spoken digit and every image of that digit) holds about
    ``n^2 / num_classes`` pairs; this answers what :class:`KnownPairs` answers without
    materialising one of them: memory is ``O(num_query + num_target)``.

    Args:
        query_labels: the class of each query node, ``-1`` for none (never paired).
        target_labels: the class of each target node, ``-1`` for none.

    Shapes:
        query_labels: ``(num_query,)``; target_labels: ``(num_target,)``.

    Example:
        >>> known = SameLabelPairs(torch.tensor([0, 1, -1]), torch.tensor([1, 0, 0, -1]))
        >>> known.mask(torch.tensor([0, 2]), torch.tensor([3, 1, 2])).tolist()
        [[False, True, True], [False, False, False]]
        >>> known.contains(torch.tensor([0, 1]), torch.tensor([2, 2])).tolist()
        [True, False]
    """

    def __init__(self, query_labels: Tensor, target_labels: Tensor) -> None:
        self.query_labels = torch.as_tensor(query_labels).long()
        self.target_labels = torch.as_tensor(target_labels).long()
        self.num_query, self.num_target = len(self.query_labels), len(self.target_labels)
        size = int(torch.cat([self.query_labels, self.target_labels, torch.full((1,), -1)]).max()) + 1
        self._per_class = torch.bincount(self.target_labels[self.target_labels >= 0], minlength=size)

    def __len__(self) -> int:
        labelled = self.query_labels[self.query_labels >= 0]
        return int(self._per_class[labelled].sum())

    def __repr__(self) -> str:
        return f"SameLabelPairs(num_pairs={len(self)}, num_query={self.num_query}, num_target={self.num_target})"

    def flip(self) -> SameLabelPairs:
        """The same pairs seen from the target side."""
        return SameLabelPairs(self.target_labels, self.query_labels)

    def counts(self, queries: Tensor) -> Tensor:
        """The number of targets paired with each of ``queries``. Shapes: ``(n,)`` -> ``(n,)``."""
        labels = self.query_labels[queries.long()]
        out = torch.zeros(len(labels), dtype=torch.long)
        out[labels >= 0] = self._per_class[labels[labels >= 0]]
        return out

    def contains(self, query: Tensor, target: Tensor) -> Tensor:
        """``True`` where ``(query[i], target[i])`` share a label. Shapes: ``(n,)`` -> ``(n,)`` bool."""
        labels = self.query_labels[query.long()]
        return (labels >= 0) & (labels == self.target_labels[target.long()])

    def mask(self, queries: Tensor, candidates: Tensor) -> Tensor:
        """``mask[i, j]`` is ``True`` where ``queries[i]`` and ``candidates[j]`` share a label.

        Shapes:
            queries: ``(b,)``; candidates: ``(c,)``; return: ``(b, c)`` bool.
        """
        labels = self.query_labels[queries.long()]
        return (labels[:, None] >= 0) & (labels[:, None] == self.target_labels[candidates.long()][None, :])
