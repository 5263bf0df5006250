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
from mmgraph.errors import ConfigError
from mmgraph.models.base import Scoring, Validate
from mmgraph.models.baselines._common import (
    EmbeddingLinkBaseline,
    LinkBaseline,
    LinkBaselineConfig,
    check_int_ks,
    check_positive,
    embedding_scores,
    per_direction_record,
    row_mean,
    saved_standardizers,
    standardizer_tensors,
    standardizers,
    statistic_rows,
    topk_similar,
    unit,
)
from mmgraph.training.checkpoint import Checkpoint
from mmgraph.typing import NodeType, ScoreFn

TRANSFER_MODES: tuple[str, ...] = ("carry-query", "carry-candidate", "sum")
"""How ``transfer`` scores a direction: the query mapped into the candidates' space, the
candidate mapped into the query's space, or the sum of both cosines."""


@dataclass
class TransferConfig(LinkBaselineConfig):
    """Settings of :class:`TransferBaseline`.

    Each scoring direction chooses one ``(alpha, standardize, mode)`` on its validation MRR.
    """

    alphas: tuple[float, ...] = (0.1, 1.0, 10.0, 100.0, 1e3, 1e4, 1e5)  # ridge penalties tried on validation
    # Ridge inputs standardised per feature with training-row statistics (True) or raw (False);
    # the penalty acts on differently scaled coefficients, so both are tried.
    standardize: tuple[bool, ...] = (True, False)
    modes: tuple[str, ...] = TRANSFER_MODES  # see TRANSFER_MODES
    default_alpha: float = 10.0  # used when the task has no validation links
    default_standardize: bool = True
    default_mode: str = "carry-query"
    center: bool = True  # compare in the target space centred on its training mean
    seed: int = 0


KNN_WEIGHTINGS: tuple[str, ...] = ("uniform", "cosine", "softmax")
"""How ``knn-transfer`` weights a query's neighbours: equally, by their cosine similarity
(negative similarities count zero), or by ``softmax(similarity / temperature)``."""


@dataclass
class KNNTransferConfig(LinkBaselineConfig):
    """Settings of :class:`KNNTransferBaseline`.

    Each scoring direction chooses ``(k, weighting, temperature)`` on its validation MRR; the
    temperatures are tried with the ``softmax`` weighting only.
    """

    ks: tuple[int, ...] = (1, 3, 5, 10, 20, 50, 100)  # neighbour counts tried on validation
    weightings: tuple[str, ...] = KNN_WEIGHTINGS  # see KNN_WEIGHTINGS
    temperatures: tuple[float, ...] = (0.01, 0.02, 0.05, 0.1, 0.2, 1.0)  # softmax temperatures of the weights
    default_k: int = 10  # used when the task has no validation links
    default_weighting: str = "softmax"
    default_temperature: float = 0.1
    center: bool = True  # cosine on features centred on their training mean
    seed: int = 0


def neighbour_weights(similarities: Tensor, weighting: str, temperature: float | None) -> Tensor:
    """Weights of each row's neighbours, summing to one.

    Shapes:
        similarities: ``(b, k)`` cosine similarities; return: ``(b, k)``.
    """
    if weighting == "uniform":
        return torch.full_like(similarities, 1 / similarities.shape[1])
    if weighting == "cosine":
        weights = similarities.clamp(min=0)
        total = weights.sum(1, keepdim=True)
        # A row without a positively similar neighbour weights them equally.
        return torch.where(total > 0, weights / total.clamp(min=1e-12), 1 / similarities.shape[1])
    return torch.softmax(similarities / temperature, dim=1)


class _RidgeMap:
    """A fitted ridge map as a linear layer: ``x @ weight.T + bias``."""

    def __init__(self, x_train: Tensor, y_train: Tensor, alpha: float) -> None:
        model = Ridge(alpha=alpha).fit(x_train.numpy(), y_train.numpy())
        self.weight = torch.as_tensor(model.coef_, dtype=torch.float32).reshape(y_train.shape[1], -1)
        self.bias = torch.as_tensor(model.intercept_, dtype=torch.float32).reshape(-1)

    @classmethod
    def from_weights(cls, weight: Tensor, bias: Tensor) -> _RidgeMap:
        """A map with saved weights (see :meth:`RelationModel.load`)."""
        fitted = cls.__new__(cls)
        fitted.weight, fitted.bias = weight, bias
        return fitted

    def __call__(self, x: Tensor) -> Tensor:
        return x @ self.weight.T + self.bias


class TransferBaseline(EmbeddingLinkBaseline):
    """Cross-modal transfer by ridge regression, maps both ways.

    On the training links, a ridge map takes (standardised or raw) source features to centred
    target features, and another one takes target features to centred source features. A
    direction is scored in one of three ways (``modes``): the query mapped into the
    candidates' space (``carry-query``), each candidate mapped into the query's space
    (``carry-candidate``), or the sum of the two cosines (``sum``). The penalty, the input
    standardisation and the mode of each direction are chosen together on the validation MRR
    of that direction; the choice is in ``config()["chosen"]``.
    """

    name = "transfer"
    Config = TransferConfig

    def _validate_settings(self) -> None:
        c = self.settings
        check_positive(c, self.name, ("alphas", "default_alpha"))
        if not c.standardize or any(not isinstance(v, bool) for v in (*c.standardize, c.default_standardize)):
            raise ConfigError(
                f"The 'standardize' parameter of the {self.name!r} model must be bools, at least one "
                f"(True, False). Got {c.standardize!r} instead."
            )
        if not c.modes or any(m not in TRANSFER_MODES for m in (*c.modes, c.default_mode)):
            raise ConfigError(
                f"The 'modes' of the {self.name!r} model must be among {list(TRANSFER_MODES)}, at least one. "
                f"Got {c.modes!r} (default {c.default_mode!r}) instead."
            )

    def _fit_links(
        self, train: TrainView, links: Tensor, *, validate: Validate | None, progress: bool,
        checkpoint: Checkpoint | None,
    ) -> None:
        c = self.settings
        src, _, dst = self.edge_type_
        self.standardize_ = standardizers(train, (src, dst))
        self.center_ = {
            t: row_mean(self.features_[t], statistic_rows(train, t)) if c.center else None for t in (src, dst)
        }
        outputs = {t: self._output(t, self.features_[t]) for t in (src, dst)}
        fitted: dict[tuple[float, bool], dict[bool, _RidgeMap]] = {}

        def maps(alpha: float, standardize: bool) -> dict[bool, _RidgeMap]:
            """The maps ``src -> dst`` (False) and ``dst -> src`` (True) of one setting."""
            if (alpha, standardize) not in fitted:
                xs, xd = (self._input(t, self.features_[t], standardize) for t in (src, dst))
                fitted[alpha, standardize] = {
                    False: _RidgeMap(xs[links[0]], outputs[dst][links[1]], alpha),
                    True: _RidgeMap(xd[links[1]], outputs[src][links[0]], alpha),
                }
            return fitted[alpha, standardize]

        def scoring(settings: dict[bool, tuple[float, bool, str]]) -> Scoring:
            chosen_maps = {r: maps(*settings[r][:2]) for r in (False, True)}
            return self._scoring(lambda x: self._scores(x, settings, chosen_maps))

        default = (c.default_alpha, c.default_standardize, c.default_mode)
        grid = [(a, s, m) for a in c.alphas for s in c.standardize for m in c.modes]
        self.setting_, scores = self._choose_per_direction(grid, default, scoring, validate=validate, progress=progress)
        self.maps_ = {r: maps(*self.setting_[r][:2]) for r in (False, True)}
        self.chosen_ = per_direction_record(
            lambda reverse: dict(zip(("alpha", "standardize", "mode"), self.setting_[reverse], strict=True)), scores
        )

    def _state(self) -> tuple[dict[str, Tensor], dict[str, Any]]:
        src, _, dst = self.edge_type_
        tensors = standardizer_tensors(self.standardize_, self.edge_type_)
        for side, t in (("src", src), ("dst", dst)):
            if self.center_[t] is not None:
                tensors[f"center.{side}"] = self.center_[t]
        for reverse in (False, True):  # each direction's two maps (src -> dst, dst -> src) of its setting
            for towards_src in (False, True):
                ridge = self.maps_[reverse][towards_src]
                tensors[f"map.{int(reverse)}.{int(towards_src)}.weight"] = ridge.weight
                tensors[f"map.{int(reverse)}.{int(towards_src)}.bias"] = ridge.bias
        setting = [list(self.setting_[r]) for r in (False, True)]
        return tensors, {"edge_type": list(self.edge_type_), "setting": setting}

    def _restore(self, tensors: dict[str, Tensor], state: dict[str, Any], train: TrainView) -> None:
        self.edge_type_ = tuple(state["edge_type"])
        src, _, dst = self.edge_type_
        self.features_ = {t: train.features[t].float() for t in (src, dst)}
        self.standardize_ = saved_standardizers(tensors, self.edge_type_)
        self.center_ = {t: tensors.get(f"center.{side}") for side, t in (("src", src), ("dst", dst))}
        self.setting_ = {r: tuple(state["setting"][int(r)]) for r in (False, True)}
        self.maps_ = {r: {} for r in (False, True)}
        for reverse in (False, True):
            for towards_src in (False, True):
                key = f"map.{int(reverse)}.{int(towards_src)}"
                weight, bias = tensors[f"{key}.weight"], tensors[f"{key}.bias"]
                self.maps_[reverse][towards_src] = _RidgeMap.from_weights(weight, bias)

    def _input(self, node_type: NodeType, x: Tensor, standardize: bool) -> Tensor:
        """Ridge inputs: standardised with training-row statistics, or raw."""
        return self.standardize_[node_type](x) if standardize else x.float()

    def _output(self, node_type: NodeType, x: Tensor) -> Tensor:
        """Target-space features: raw, centred on the training mean if ``center``."""
        center = self.center_[node_type]
        return x.float() if center is None else x.float() - center

    def _embed(self, x: dict[NodeType, Tensor]) -> dict[bool, tuple[Tensor, Tensor]]:
        return self._embed_with(x, self.setting_, self.maps_)

    def _scores(
        self, x: dict[NodeType, Tensor], settings: dict[bool, tuple[float, bool, str]],
        maps: dict[bool, dict[bool, _RidgeMap]],
    ) -> ScoreFn:
        """The score function of ``settings`` and their ``maps`` (a candidate's, during ``fit``)."""
        with torch.no_grad():
            return embedding_scores(self._embed_with(x, settings, maps))

    def _embed_with(
        self, x: dict[NodeType, Tensor], settings: dict[bool, tuple[float, bool, str]],
        all_maps: dict[bool, dict[bool, _RidgeMap]],
    ) -> dict[bool, tuple[Tensor, Tensor]]:
        """Query and candidate embeddings of each direction with its setting and maps."""
        src, _, dst = self.edge_type_
        out = {}
        for reverse, (query_type, candidate_type) in ((False, (src, dst)), (True, (dst, src))):
            _, standardize, mode = settings[reverse]
            maps = all_maps[reverse]
            # maps[False] carries src into dst space, maps[True] dst into src space.
            carried_query = unit(maps[reverse](self._input(query_type, x[query_type], standardize)))
            carried_candidate = unit(maps[not reverse](self._input(candidate_type, x[candidate_type], standardize)))
            own_query = unit(self._output(query_type, x[query_type]))
            own_candidate = unit(self._output(candidate_type, x[candidate_type]))
            if mode == "carry-query":
                out[reverse] = (carried_query, own_candidate)
            elif mode == "carry-candidate":
                out[reverse] = (own_query, carried_candidate)
            else:  # the sum of both cosines, as one dot product of concatenations
                query = torch.cat([carried_query, own_query], 1)
                out[reverse] = (query, torch.cat([own_candidate, carried_candidate], 1))
        return out


class KNNTransferBaseline(LinkBaseline):
    """Transfer through the nearest training samples of the query's own modality.

    A training sample's target-space embedding is the mean (unit, centred) feature of the
    targets it is linked to. A query finds its ``k`` most cosine-similar training samples of
    its own modality, weights them (equally, by similarity, or by
    ``softmax(similarity / temperature)``: see :data:`KNN_WEIGHTINGS`), and takes the weighted
    mean of their target-space embeddings; the score of a candidate is the cosine similarity of
    that embedding and the candidate's feature. ``k``, the weighting and the temperature are
    chosen per direction on the validation MRR.
    """

    name = "knn-transfer"
    Config = KNNTransferConfig

    def _validate_settings(self) -> None:
        c = self.settings
        check_positive(c, self.name, ("ks", "temperatures", "default_k", "default_temperature"))
        check_int_ks(c, self.name)
        if not c.weightings or any(w not in KNN_WEIGHTINGS for w in (*c.weightings, c.default_weighting)):
            raise ConfigError(
                f"The 'weightings' of the {self.name!r} model must be among {list(KNN_WEIGHTINGS)}, at least one. "
                f"Got {c.weightings!r} (default {c.default_weighting!r}) instead."
            )

    def _fit_links(
        self, train: TrainView, links: Tensor, *, validate: Validate | None, progress: bool,
        checkpoint: Checkpoint | None,
    ) -> None:
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

        def scoring(settings: dict[bool, tuple[int, str, float | None]]) -> Scoring:
            return self._scoring(lambda x: self._scores(x, settings))

        grid = [(k, w, t) for k in c.ks for w in c.weightings for t in (c.temperatures if w == "softmax" else (None,))]
        default_temperature = c.default_temperature if c.default_weighting == "softmax" else None
        default = (c.default_k, c.default_weighting, default_temperature)
        setting, scores = self._choose_per_direction(grid, default, scoring, validate=validate, progress=progress)
        self.k_ = {r: setting[r][0] for r in (False, True)}
        self.weighting_ = {r: setting[r][1] for r in (False, True)}
        self.temperature_ = {r: setting[r][2] for r in (False, True)}
        if scores is None:
            self.chosen_ = {"k": c.default_k, "weighting": c.default_weighting, "temperature": default_temperature}
        else:
            self.chosen_ = per_direction_record(
                lambda r: {"k": self.k_[r], "weighting": self.weighting_[r], "temperature": self.temperature_[r]},
                scores,
            )

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
            "weighting": [self.weighting_[False], self.weighting_[True]],
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
        self.weighting_ = {False: state["weighting"][0], True: state["weighting"][1]}
        self.keys_, self.transferred_, self.neighbours_ = {}, {}, {}
        for reverse in (False, True):
            tag = "reverse" if reverse else "forward"
            self.keys_[reverse] = tensors[f"{tag}.keys"]
            self.transferred_[reverse] = tensors[f"{tag}.transferred"]
            self.neighbours_[reverse] = (tensors[f"{tag}.neighbour_values"], tensors[f"{tag}.neighbour_indices"])

    def _score_fn(self, x: dict[NodeType, Tensor]) -> ScoreFn:
        settings = {r: (self.k_[r], self.weighting_[r], self.temperature_[r]) for r in (False, True)}
        return self._scores(x, settings)

    def _scores(self, x: dict[NodeType, Tensor], settings: dict[bool, tuple[int, str, float | None]]) -> ScoreFn:
        """The score function of ``(k, weighting, temperature)`` per direction (a candidate's, during ``fit``)."""
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
        k = {r: settings[r][0] for r in (False, True)}
        weighting = {r: settings[r][1] for r in (False, True)}
        temperature = {r: settings[r][2] for r in (False, True)}
        transferred = self.transferred_

        def score(query: Tensor, candidates: Tensor, reverse: bool) -> Tensor:
            values, indices = neighbours[reverse]
            weights = neighbour_weights(values[query, : k[reverse]], weighting[reverse], temperature[reverse])  # (b, k)
            embedded = torch.einsum("bk,bkd->bd", weights, transferred[reverse][indices[query, : k[reverse]]])
            return F.normalize(embedded, dim=1) @ targets[reverse][candidates].T

        return score
