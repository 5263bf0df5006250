"""Transfer link baselines: a query is carried into the candidates' feature space.

- ``transfer``: ridge maps from one feature space to the other (one per direction).
- ``knn-transfer``: a query takes the similarity-weighted target-space embedding of its
  nearest training samples of its own modality.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from sklearn.linear_model import Ridge
from torch import Tensor

from mmgraph.data.prepared import TrainView
from mmgraph.models.base import Validate
from mmgraph.models.baselines._common import (
    DIRECTIONS,
    EmbeddingLinkBaseline,
    LinkBaseline,
    ScoreFn,
    Standardizer,
    check_int_ks,
    check_positive,
    per_direction,
    row_mean,
    statistic_rows,
    topk_similar,
    unit,
)
from mmgraph.training.selection import grid_search
from mmgraph.typing import NodeType


@dataclass
class TransferConfig:
    """Settings of :class:`TransferBaseline`."""

    alphas: tuple[float, ...] = (0.1, 1.0, 10.0, 100.0, 1000.0)  # ridge penalties tried on validation
    default_alpha: float = 10.0  # used when the task has no validation links
    center: bool = True  # compare in the target space centred on its training mean
    seed: int = 0


@dataclass
class KNNTransferConfig:
    """Settings of :class:`KNNTransferBaseline`."""

    ks: tuple[int, ...] = (1, 3, 5, 10, 20, 50)  # neighbour counts tried on validation
    temperatures: tuple[float, ...] = (0.02, 0.05, 0.1, 1.0)  # softmax temperatures of the weights
    default_k: int = 10  # used when the task has no validation links
    default_temperature: float = 0.1
    center: bool = True  # cosine on features centred on their training mean
    seed: int = 0


class _RidgeMap:
    """A fitted ridge map as a linear layer: ``x @ weight.T + bias``."""

    def __init__(self, x_train: Tensor, y_train: Tensor, alpha: float) -> None:
        model = Ridge(alpha=alpha).fit(x_train.numpy(), y_train.numpy())
        self.weight = torch.as_tensor(model.coef_, dtype=torch.float32).reshape(y_train.shape[1], -1)
        self.bias = torch.as_tensor(model.intercept_, dtype=torch.float32).reshape(-1)

    def __call__(self, x: Tensor) -> Tensor:
        return x @ self.weight.T + self.bias


class TransferBaseline(EmbeddingLinkBaseline):
    """Cross-modal transfer by ridge regression, one map per direction.

    On the training links, a ridge map takes standardised source features to (centred)
    target features, and another one the other way. A query is mapped into the candidates'
    space and scored by cosine similarity. The penalty of each direction is chosen on the
    validation MRR of that direction from ``alphas``.
    """

    name = "transfer"
    Config = TransferConfig

    def _validate_settings(self) -> None:
        check_positive(self.settings, self.name, ("alphas", "default_alpha"))

    def _fit_links(self, train: TrainView, links: Tensor, *, validate: Validate | None, progress: bool) -> None:
        c = self.settings
        src, _, dst = self.edge_type_
        rows = {t: statistic_rows(train, t) for t in (src, dst)}
        self.standardize_ = {t: Standardizer(self.features_[t], rows[t]) for t in (src, dst)}
        self.center_ = {t: row_mean(self.features_[t], rows[t]) if c.center else None for t in (src, dst)}
        inputs = {t: self.standardize_[t](self.features_[t]) for t in (src, dst)}
        outputs = {t: self._output(t, self.features_[t]) for t in (src, dst)}
        fitted: dict[float, dict[bool, _RidgeMap]] = {}

        def maps(alpha: float) -> dict[bool, _RidgeMap]:
            if alpha not in fitted:
                fitted[alpha] = {
                    False: _RidgeMap(inputs[src][links[0]], outputs[dst][links[1]], alpha),
                    True: _RidgeMap(inputs[dst][links[1]], outputs[src][links[0]], alpha),
                }
            return fitted[alpha]

        best = {}
        if validate is not None:

            def evaluate(alpha: float) -> dict[str, float]:
                self.maps_ = maps(alpha)
                return validate(self)

            keys = tuple(f"{d}/mrr" for d in DIRECTIONS)
            best = grid_search(list(c.alphas), evaluate, keys=keys, desc=self.name, progress=progress)
        chosen = per_direction(best, c.default_alpha)
        self.maps_ = {False: maps(chosen[DIRECTIONS[0]][0])[False], True: maps(chosen[DIRECTIONS[1]][0])[True]}
        self.chosen_ = {"alpha": {d: chosen[d][0] for d in DIRECTIONS}}
        if best:
            self.chosen_["val_mrr"] = {d: chosen[d][1] for d in DIRECTIONS}

    def _output(self, node_type: NodeType, x: Tensor) -> Tensor:
        """Target-space features: raw, centred on the training mean if ``center``."""
        center = self.center_[node_type]
        return x.float() if center is None else x.float() - center

    def _embed(self, x: dict[NodeType, Tensor]) -> dict[bool, tuple[Tensor, Tensor]]:
        src, _, dst = self.edge_type_
        forward = unit(self.maps_[False](self.standardize_[src](x[src])))
        backward = unit(self.maps_[True](self.standardize_[dst](x[dst])))
        return {
            False: (forward, unit(self._output(dst, x[dst]))),
            True: (backward, unit(self._output(src, x[src]))),
        }


class KNNTransferBaseline(LinkBaseline):
    """Transfer through the nearest training samples of the query's own modality.

    A training sample's target-space embedding is the mean (unit, centred) feature of the
    targets it is linked to. A query finds its ``k`` most cosine-similar training samples of
    its own modality, weights them by ``softmax(similarity / temperature)``, and takes the
    weighted mean of their target-space embeddings; the score of a candidate is the cosine
    similarity of that embedding and the candidate's feature. ``k`` and the temperature are
    chosen per direction on the validation MRR.
    """

    name = "knn-transfer"
    Config = KNNTransferConfig

    def _validate_settings(self) -> None:
        check_positive(self.settings, self.name, ("ks", "temperatures", "default_k", "default_temperature"))
        check_int_ks(self.settings, self.name)

    def _fit_links(self, train: TrainView, links: Tensor, *, validate: Validate | None, progress: bool) -> None:
        c = self.settings
        src, _, dst = self.edge_type_
        self.center_ = {
            t: row_mean(self.features_[t], statistic_rows(train, t)) if c.center else None for t in (src, dst)
        }
        units = {t: unit(self.features_[t], self.center_[t]) for t in (src, dst)}
        self.num_neighbours_ = max(*c.ks, c.default_k)
        # Per direction: the training samples of the query's modality that hold training links
        # (the keys), the mean unit feature of their targets, and the view nodes' neighbours.
        self.keys_, self.transferred_, self.neighbours_ = {}, {}, {}
        for reverse, (own, other) in ((False, links), (True, links.flip(0))):
            query_type, target_type = (dst, src) if reverse else (src, dst)
            keys, inverse = torch.unique(own, return_inverse=True)
            sums = torch.zeros(len(keys), units[target_type].shape[1])
            sums.index_add_(0, inverse, units[target_type][other])
            self.transferred_[reverse] = sums / torch.bincount(inverse, minlength=len(keys))[:, None]
            self.keys_[reverse] = units[query_type][keys]
            self.neighbours_[reverse] = topk_similar(units[query_type], self.keys_[reverse], self.num_neighbours_)

        best = {}
        if validate is not None:

            def evaluate(setting: tuple[int, float]) -> dict[str, float]:
                self.k_ = {False: setting[0], True: setting[0]}
                self.temperature_ = {False: setting[1], True: setting[1]}
                return validate(self)

            grid = [(k, t) for k in c.ks for t in c.temperatures]
            keys = tuple(f"{d}/mrr" for d in DIRECTIONS)
            best = grid_search(grid, evaluate, keys=keys, desc=self.name, progress=progress)
        chosen = per_direction(best, (c.default_k, c.default_temperature))
        directions = ((False, DIRECTIONS[0]), (True, DIRECTIONS[1]))
        self.k_ = {r: chosen[d][0][0] for r, d in directions}
        self.temperature_ = {r: chosen[d][0][1] for r, d in directions}
        if not best:
            self.chosen_ = {"k": c.default_k, "temperature": c.default_temperature}
        else:
            self.chosen_ = {
                d: {"k": self.k_[r], "temperature": self.temperature_[r], "val_mrr": chosen[d][1]}
                for r, d in directions
            }

    def _state(self) -> tuple[dict[str, Tensor], dict[str, Any]]:
        tensors = {}
        for reverse in (False, True):
            tag = "reverse" if reverse else "forward"
            tensors[f"{tag}.keys"] = self.keys_[reverse]
            tensors[f"{tag}.transferred"] = self.transferred_[reverse]
            tensors[f"{tag}.neighbour_values"], tensors[f"{tag}.neighbour_indices"] = self.neighbours_[reverse]
        tensors.update({f"center.{t}": c for t, c in self.center_.items() if c is not None})
        state = {
            "edge_type": list(self.edge_type_), "num_neighbours": self.num_neighbours_,
            "k": [self.k_[False], self.k_[True]], "temperature": [self.temperature_[False], self.temperature_[True]],
        }
        return tensors, state

    def _restore(self, tensors: dict[str, Tensor], state: dict[str, Any], train: TrainView) -> None:
        self.edge_type_ = tuple(state["edge_type"])
        src, _, dst = self.edge_type_
        self.features_ = {t: train.features[t].float() for t in (src, dst)}
        self.center_ = {t: tensors.get(f"center.{t}") for t in (src, dst)}
        self.num_neighbours_ = state["num_neighbours"]
        self.k_ = {False: state["k"][0], True: state["k"][1]}
        self.temperature_ = {False: state["temperature"][0], True: state["temperature"][1]}
        self.keys_, self.transferred_, self.neighbours_ = {}, {}, {}
        for reverse in (False, True):
            tag = "reverse" if reverse else "forward"
            self.keys_[reverse] = tensors[f"{tag}.keys"]
            self.transferred_[reverse] = tensors[f"{tag}.transferred"]
            self.neighbours_[reverse] = (tensors[f"{tag}.neighbour_values"], tensors[f"{tag}.neighbour_indices"])

    def _score_fn(self, x: dict[NodeType, Tensor]) -> ScoreFn:
        src, _, dst = self.edge_type_
        units = {t: unit(x[t], self.center_[t]) for t in (src, dst)}
        neighbours, targets = {}, {}
        for reverse, (query_type, target_type) in ((False, (src, dst)), (True, (dst, src))):
            # Neighbours among the training keys: precomputed for view nodes, searched for new rows.
            view = self.features_[query_type].shape[0]
            new_values, new_indices = topk_similar(units[query_type][view:], self.keys_[reverse], self.num_neighbours_)
            neighbours[reverse] = (
                torch.cat([self.neighbours_[reverse][0], new_values]),
                torch.cat([self.neighbours_[reverse][1], new_indices]),
            )
            targets[reverse] = units[target_type]
        k, temperature, transferred = dict(self.k_), dict(self.temperature_), self.transferred_

        def score(query: Tensor, candidates: Tensor, reverse: bool) -> Tensor:
            values, indices = neighbours[reverse]
            weights = torch.softmax(values[query, : k[reverse]] / temperature[reverse], dim=1)  # (b, k)
            embedded = torch.einsum("bk,bkd->bd", weights, transferred[reverse][indices[query, : k[reverse]]])
            return F.normalize(embedded, dim=1) @ targets[reverse][candidates].T

        return score
