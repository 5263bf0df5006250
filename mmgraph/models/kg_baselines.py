"""Baselines of cold-entity knowledge-graph completion: text only, and no feature at all.

:class:`TextRidgeKG`: a new entity arrives with its text only (:func:`mmgraph.data.triples.cold_entity_split`). The
baseline maps its text features to those of its partner under each relation: one ridge
regression per relation and side, fitted on the training triples, a candidate scored by the
cosine of the map's output and its own features (the cross-modal transfer of
:class:`mmgraph.models.baselines.TransferBaseline`, one map per relation). The ridge penalty is
chosen per side on the validation entities; ``None`` among the choices is no map at all (the
plain cosine of the two texts), so the baseline is never worse on validation than text
similarity alone.

:class:`RelationPrior` reads no feature: a candidate's score is how often it answers the
relation's question in training. It is what the protocol gives a model that knows nothing of the
new entity; its MRR above chance is the skew of the answers (a few hypernyms answer many
questions), not a leak.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import torch
import torch.nn.functional as F
from sklearn.linear_model import Ridge
from torch import Tensor

from mmgraph.errors import DataError, NotFittedError
from mmgraph.models.standardize import Standardize
from mmgraph.training.selection import grid_search

RIDGE_ALPHAS: tuple[float | None, ...] = (None, 1.0, 10.0, 100.0, 1000.0)
"""Ridge penalties tried on validation; ``None``: no map, the cosine of the texts themselves."""

SIDE_MAPS: dict[str, tuple[int, int]] = {"tail": (0, 2), "head": (2, 0)}
"""The column of a triple a side's map reads and the one it predicts (tail questions read heads)."""


class TextRidgeKG:
    """Per relation and side, a ridge map from an entity's text features to its partner's.

    Args:
        alphas: the ridge penalties tried on validation (``None``: no map).

    Example:
        >>> features = torch.eye(4)
        >>> train = torch.tensor([[0, 0, 1], [2, 0, 3]])
        >>> model = TextRidgeKG(alphas=(1.0,)).fit(features, train, num_relations=1)
        >>> model.score_tails(torch.tensor([0]), torch.tensor([0])).argmax().item()
        1
    """

    def __init__(self, alphas: Sequence[float | None] = RIDGE_ALPHAS) -> None:
        if not alphas:
            raise DataError("TextRidgeKG needs at least one ridge penalty in 'alphas'. Got none.")
        self.alphas = tuple(alphas)

    def __repr__(self) -> str:
        return f"TextRidgeKG(alphas={self.alphas})"

    def fit(
        self, features: Tensor, train: Tensor, *, num_relations: int,
        validate: Callable[[TextRidgeKG], Mapping[str, float]] | None = None,
    ) -> TextRidgeKG:
        """Fits the maps on ``train``; ``validate`` (metrics of a fitted candidate, with
        ``"tail/mrr"`` and ``"head/mrr"``) chooses the penalty of each side. Returns ``self``.

        Only the features of the entities in ``train`` are read while fitting (standardisation
        included); the others are read when scored.

        Shapes:
            features: ``(num_entities, dim)``, every entity; train: ``(n, 3)``.
        """
        if features.dim() != 2 or len(train) == 0:
            raise DataError(
                f"TextRidgeKG.fit needs features (num_entities, dim) and at least one training triple. Got "
                f"features {tuple(features.shape)} and {len(train)} triples."
            )
        seen = torch.unique(torch.cat([train[:, 0], train[:, 2]]))
        self.standardize_ = Standardize(features.shape[1]).fit(features[seen])
        self.x_ = self.standardize_(features.float())
        self.unit_ = F.normalize(self.x_, dim=1)
        self.num_relations_ = num_relations
        self._maps: dict[tuple[str, int, float], Tensor] = {}
        self.train_ = train.long()
        self.chosen_ = {side: self.alphas[0] for side in SIDE_MAPS}
        if validate is not None and len(self.alphas) > 1:
            best = grid_search(
                self.alphas, lambda alpha: validate(self._with({side: alpha for side in SIDE_MAPS})),
                keys=tuple(f"{side}/mrr" for side in SIDE_MAPS), desc="ridge penalty",
            )
            self.chosen_ = {side: best[f"{side}/mrr"].setting if f"{side}/mrr" in best else self.alphas[0]
                            for side in SIDE_MAPS}
        return self

    def _with(self, chosen: dict[str, float | None]) -> TextRidgeKG:
        """This fitted model with other penalties (its maps are shared, computed once each)."""
        other = TextRidgeKG(self.alphas)
        other.__dict__.update(self.__dict__)
        other.chosen_ = chosen
        return other

    def _map(self, side: str, relation: int, alpha: float) -> Tensor:
        """The ridge map of ``side`` and ``relation`` as an augmented ``(dim + 1, dim)`` matrix."""
        key = (side, relation, alpha)
        if key not in self._maps:
            read, predict = SIDE_MAPS[side]
            rows = self.train_[self.train_[:, 1] == relation]
            dim = self.x_.shape[1]
            if len(rows) == 0:  # a relation with no training triple: the identity
                self._maps[key] = torch.cat([torch.eye(dim), torch.zeros(1, dim)])
            else:
                ridge = Ridge(alpha=alpha).fit(self.x_[rows[:, read]].numpy(), self.x_[rows[:, predict]].numpy())
                weight = torch.as_tensor(ridge.coef_, dtype=torch.float32).T
                bias = torch.as_tensor(ridge.intercept_, dtype=torch.float32).reshape(1, -1)
                self._maps[key] = torch.cat([weight, bias])
        return self._maps[key]

    def _score(self, side: str, entity: Tensor, relation: Tensor) -> Tensor:
        if not hasattr(self, "chosen_"):
            raise NotFittedError("This TextRidgeKG is not fitted yet. Call 'fit' with features and triples first.")
        alpha = self.chosen_[side]
        entity, relation = entity.long(), relation.long()
        if alpha is None:
            return self.unit_[entity] @ self.unit_.T
        out = torch.empty(len(entity), self.x_.shape[0])
        for r in relation.unique().tolist():
            rows = (relation == r).nonzero().flatten()
            m = self._map(side, r, alpha)
            predicted = self.x_[entity[rows]] @ m[:-1] + m[-1]
            out[rows] = F.normalize(predicted, dim=1) @ self.unit_.T
        return out

    def score_tails(self, head: Tensor, relation: Tensor) -> Tensor:
        """Every entity scored as the tail of ``(head, relation)``, ``(b, num_entities)``."""
        return self._score("tail", head, relation)

    def score_heads(self, tail: Tensor, relation: Tensor) -> Tensor:
        """Every entity scored as the head of ``(tail, relation)``, ``(b, num_entities)``."""
        return self._score("head", tail, relation)


class RelationPrior:
    """Scores a candidate by how often it is the answer of a relation's side in training.

    Example:
        >>> train = torch.tensor([[0, 0, 2], [1, 0, 2], [1, 0, 3]])
        >>> prior = RelationPrior().fit(train, num_entities=4, num_relations=1)
        >>> prior.score_tails(torch.tensor([3]), torch.tensor([0])).tolist()
        [[0.0, 0.0, 2.0, 1.0]]
    """

    def __repr__(self) -> str:
        return "RelationPrior()"

    def fit(self, train: Tensor, *, num_entities: int, num_relations: int) -> RelationPrior:
        """Counts the answers of each relation and side in ``train`` ``(n, 3)``. Returns ``self``."""
        train = train.long()
        self.counts_ = {}
        for side, (_, answer) in SIDE_MAPS.items():
            counts = torch.zeros(num_relations, num_entities)
            counts.index_put_((train[:, 1], train[:, answer]), torch.ones(len(train)), accumulate=True)
            self.counts_[side] = counts
        return self

    def _score(self, side: str, relation: Tensor) -> Tensor:
        if not hasattr(self, "counts_"):
            raise NotFittedError("This RelationPrior is not fitted yet. Call 'fit' with the training triples first.")
        return self.counts_[side][relation.long()]

    def score_tails(self, head: Tensor, relation: Tensor) -> Tensor:
        """Every entity scored as the tail of ``(head, relation)`` (the head is not read), ``(b, num_entities)``."""
        return self._score("tail", relation)

    def score_heads(self, tail: Tensor, relation: Tensor) -> Tensor:
        """Every entity scored as the head of ``(tail, relation)`` (the tail is not read), ``(b, num_entities)``."""
        return self._score("head", relation)
