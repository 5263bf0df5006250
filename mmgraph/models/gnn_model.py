"""The default relation learner, as a model: graph from the training view, scores for new samples."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from mmgraph.checks import check_choice, check_positive_int
from mmgraph.data.prepared import TrainView
from mmgraph.errors import ConfigError, DataError, NotApplicableError
from mmgraph.graph import GraphBuilder
from mmgraph.graph.knn import KNN_METHODS
from mmgraph.models.base import RelationModel, Validate
from mmgraph.models.baselines.transfer import TransferBaseline
from mmgraph.models.propagation import PropagationGraph
from mmgraph.models.relation_learner import RelationLearner, RelationLearnerConfig, take_rows
from mmgraph.models.sign import SIGNLearner
from mmgraph.training.selection import grid_search
from mmgraph.typing import EdgeType, NodeType

# (restart probability, steps) of the propagation tried on the validation split.
PROPAGATION_SETTINGS: tuple[tuple[float, int], ...] = ((0.5, 2), (0.5, 4), (0.1, 10), (0.1, 20))
# Weights of each propagated feature space's score beside the learned link logits (0: unused;
# 1000: the propagation decides alone).
LINK_WEIGHTS: tuple[float, ...] = (0.0, 1.0, 3.0, 10.0, 1000.0)
LINK_EDGE_WEIGHT = 3.0  # weight of a known link beside similarity edges in the propagation
# Restart probabilities of label smoothing (1.0: the label head's predictions unchanged).
LABEL_ALPHAS: tuple[float, ...] = (1.0, 0.8, 0.5, 0.2)
LABEL_STEPS = 10
# Weights of the hubness correction of link scores (CSLS, Conneau et al. 2018): a candidate's score
# minus this weight times its mean score over its HUBNESS_NEIGHBOURS best training queries.
HUBNESS_WEIGHTS: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0)
HUBNESS_NEIGHBOURS = 10
# Weights of the ridge map's score (the `transfer` model, fitted on the same training links and chosen
# on validation) beside the learned and propagated scores (0: unused; 1000: the map decides alone).
MAP_WEIGHTS: tuple[float, ...] = (0.0, 1.0, 3.0, 10.0, 1000.0)
TRAINING_MODES: tuple[str, ...] = ("auto", "full", "minibatch")
# "auto" trains full batch up to this many nodes (all modalities), in mini-batches beyond. Full batch
# holds every layer's activations of the whole graph: about 9 GiB and 4 minutes for 3 epochs at
# 100,000 nodes on the 2-core reference machine (issue 11), growing faster than the node count;
# at 200,000 it still fits a 32 GiB machine, and the small real tasks (a few thousand nodes) keep
# the full-batch results they were benchmarked with. Under torchrun it is always mini-batch.
FULL_BATCH_MAX_NODES = 200_000


@dataclass
class GNNConfig(RelationLearnerConfig):
    """Settings of :class:`GNNModel`: the learner's, the graph's and the propagation's."""

    k: int = 10  # similarity neighbours per node in the graph (and for an attached new sample)
    # kNN method of the similarity graph: "auto" is exact on small modalities (identical results) and an
    # approximate faiss IVF index on large ones; "exact", "flat", "hnsw", "ivf" (see mmgraph.graph.knn_cosine)
    knn: str = "auto"
    propagation: bool = True  # refine the learned scores by propagation, chosen on validation
    propagation_temperature: float = 0.05  # sharpness of similarity edges in the propagation
    # correct link scores for hubness (CSLS), its weight chosen on validation after the propagation
    hubness: bool = True
    # add a ridge map between the two link spaces as one more score, its weight chosen on validation
    # after the propagation (the map's own penalty, input scaling and direction chosen as `transfer` does;
    # 0 is among the weights). Measured in benchmarks/experiments.md, 2026-11-30.
    linear_map: bool = True
    # "full": message passing over the whole graph each epoch; "minibatch": precomputed propagation
    # features and mini-batches of links (mmgraph.models.sign, memory linear in nodes; the mode that
    # runs under torchrun); "auto": full up to FULL_BATCH_MAX_NODES nodes, minibatch beyond.
    training: str = "auto"
    minibatch_size: int = 1024  # links (or labelled nodes) per step in minibatch mode, shared among processes


class GNNModel(RelationModel):
    """The default relation learner (see :class:`RelationLearner`) over a graph of the training view.

    ``fit`` builds the graph from the training view alone (kNN similarity edges inside each
    modality, the training links with their reverses) and trains the learner on it. A new
    sample is attached by its ``k`` most similar training nodes, from which it receives
    messages (it sends none), and scored by the same networks.

    After training, the learned scores are refined by propagation over the same graph
    (:class:`~mmgraph.models.propagation.PropagationGraph`): a link score adds
    ``w_s <z_q, z_c> + w_d <z'_q, z'_c>`` where ``z`` and ``z'`` are the source and the target
    modality's features (centred on the training mean) propagated through similarity and link
    edges (APPNP-style); label predictions are smoothed over the graph, Correct-and-Smooth
    style, with training labels clamped. The weights and the propagation settings are chosen on
    validation; "learned score only" is always among them.

    Link scores are then corrected for hubness, as CSLS does in cross-lingual word translation: a
    map fitted on training pairs pulls every query towards a few candidates, which then rank high
    everywhere. A candidate's score loses ``beta`` times its mean score over the
    ``HUBNESS_NEIGHBOURS`` training queries that score it highest; ``beta`` (0 among the choices)
    is chosen on validation.

    Large graphs (``training="minibatch"``, or ``"auto"`` beyond ``FULL_BATCH_MAX_NODES`` nodes or under
    ``torchrun``) train :class:`~mmgraph.models.sign.SIGNLearner` instead: propagated features computed
    once over a graph whose similarity edges are each node's own ``k`` nearest (as a new sample's are),
    then MLP towers over mini-batches of links; memory and time per epoch grow linearly with the
    graph. Scoring, the propagation refinement (sparse, linear in the edges) and saving work alike.
    """

    name = "gnn"
    kinds = ("link", "label")
    Config = GNNConfig

    def _validate_settings(self) -> None:
        check_positive_int(self.settings.k, "k", "the 'gnn' model")
        check_choice(self.settings.knn, name="knn", owner="the 'gnn' model", choices=KNN_METHODS)
        check_positive_int(self.settings.minibatch_size, "minibatch_size", "the 'gnn' model")
        if self.settings.training not in TRAINING_MODES:
            raise ConfigError(
                f"The 'training' setting of the 'gnn' model must be one of {TRAINING_MODES}. "
                f"Got {self.settings.training!r} instead."
            )
        self.learner = self._make_learner("full")
        self.builder = GraphBuilder(k=self.settings.k, method=self.settings.knn)
        self.chosen_: dict[str, Any] = {"weights": (0.0, 0.0), "alpha": 1.0, "steps": 0, "hubness": 0.0}

    # ------------------------------------------------------------------ fitting
    def _fit(self, train: TrainView, *, validate: Validate | None, progress: bool) -> None:
        self._embedded: dict[str, Any] | None = None  # the training graph's states and signals (see scorer)
        self._propagation_graph: PropagationGraph | None = None
        self.training_ = self._training_mode(sum(train.num_nodes(t) for t in train.node_types))
        self.learner = self._make_learner(self.training_)
        # mini-batch features: each node reads its own k nearest, as a new sample does
        self.builder.symmetric = self.training_ != "minibatch"
        labels, label_mask = _labels_with_borrowed(train) if train.kind == "label" else ({}, None)
        self.graph_ = self.builder.build(train.features, train.links, labels=labels or None)
        self.train_rows_ = train.train_rows
        targets = [train.target_edge_type] if train.kind == "link" else []
        metric = "mrr" if train.kind == "link" else "accuracy"
        maskable = [
            t for src, rel, dst in train.cold_link_types
            for t in ((src, rel, dst), (dst, self.builder.reverse_prefix + rel, src))
        ]

        def learner_score(learner: RelationLearner) -> float:
            self._embedded = None  # new weights
            return validate(self).get(metric, float("-inf"))

        self.learner.fit(
            self.graph_, target_edge_types=targets, maskable_edge_types=maskable,
            similarity_relation=self.builder.similarity_relation, num_classes=len(train.classes),
            label_train_mask=label_mask, train_rows=train.train_rows,
            validate=learner_score if validate is not None else None, progress=progress,
            checkpoint=getattr(self, "_checkpoint", None),
        )
        self._embedded = None
        if self.settings.propagation and validate is not None:
            self._choose(validate, links=train.kind == "link", metric=metric)
        self.map_: TransferBaseline | None = None
        if self.settings.linear_map and validate is not None and train.kind == "link":
            self._choose_map(train, validate, metric)
        if self.settings.hubness and validate is not None and train.kind == "link":
            self._choose_hubness(validate, metric)

    def _training_mode(self, num_nodes: int) -> str:
        """``"full"`` or ``"minibatch"``: the setting, or for ``"auto"`` by the graph's size (and
        always minibatch under torchrun, whose ranks share mini-batches)."""
        if self.settings.training != "auto":
            return self.settings.training
        if int(os.environ.get("WORLD_SIZE", "1")) > 1 or num_nodes > FULL_BATCH_MAX_NODES:
            return "minibatch"
        return "full"

    def _make_learner(self, training: str) -> RelationLearner | SIGNLearner:
        """An unfitted learner of the settings for ``training`` (``"full"`` or ``"minibatch"``)."""
        fields = {f.name for f in dataclasses.fields(RelationLearnerConfig)}
        config = {k: v for k, v in dataclasses.asdict(self.settings).items() if k in fields}
        if training == "minibatch":
            return SIGNLearner(config, minibatch_size=self.settings.minibatch_size)
        return RelationLearner(config)

    def _choose(self, validate: Validate, *, links: bool, metric: str) -> None:
        """Picks the propagation settings and weights with the best validation score."""
        if links:
            settings = [
                (alpha, steps, (a, b))
                for alpha, steps in PROPAGATION_SETTINGS for a in LINK_WEIGHTS for b in LINK_WEIGHTS
            ]
        else:
            settings = [(alpha, LABEL_STEPS, (0.0, 0.0)) for alpha in LABEL_ALPHAS]

        def evaluate(setting: tuple[float, int, tuple[float, float]]) -> dict[str, float]:
            alpha, steps, weights = setting
            self.chosen_ = {"weights": weights, "alpha": alpha, "steps": steps}
            return validate(self)

        best = grid_search(settings, evaluate, keys=(metric,), desc="propagation")
        if metric in best:
            alpha, steps, weights = best[metric].setting
            self.chosen_ = {"weights": weights, "alpha": alpha, "steps": steps, "hubness": 0.0,
                            "val": best[metric].score}
        else:
            self.chosen_ = {"weights": (0.0, 0.0), "alpha": 1.0, "steps": 0, "hubness": 0.0}

    def _choose_map(self, train: TrainView, validate: Validate, metric: str) -> None:
        """Fits the ridge map (as the `transfer` model does, its settings chosen on validation) and
        picks its score's weight with the best validation score (the rest as chosen)."""
        self.map_ = TransferBaseline(seed=self.settings.seed).fit(train, validate=validate, progress=False)
        if self._choose_weight("map", MAP_WEIGHTS, validate, metric):
            self.chosen_["map_settings"] = self.map_.chosen_
        else:
            self.map_ = None  # unused: nothing to keep or save

    def _choose_hubness(self, validate: Validate, metric: str) -> None:
        """Picks the hubness correction's weight with the best validation score (the rest as chosen)."""
        self._choose_weight("hubness", HUBNESS_WEIGHTS, validate, metric)

    def _choose_weight(self, key: str, weights: tuple[float, ...], validate: Validate, metric: str) -> float:
        """Sets ``chosen_[key]`` to the weight with the best validation score, the other choices kept
        (0.0 where validation asks nothing); returns it."""
        chosen = dict(self.chosen_)

        def evaluate(weight: float) -> dict[str, float]:
            self.chosen_ = {**chosen, key: weight}
            return validate(self)

        best = grid_search(weights, evaluate, keys=(metric,), desc=key)
        self.chosen_ = {**chosen, key: best[metric].setting if metric in best else 0.0}
        if metric in best:
            self.chosen_["val"] = best[metric].score
        return self.chosen_[key]

    # ------------------------------------------------------------------ scoring
    def scorer(self, new: Mapping[NodeType, Tensor] | None = None) -> _GNNScorer:
        """Attaches the ``new`` samples to the fitted graph and scores them (see :class:`Scorer`).

        The training graph's representations and propagated signals are computed once per weights
        and propagation setting; a new sample reads only its ``k`` neighbours' (see
        :meth:`HeteroGNN.extend` and :meth:`PropagationGraph.extend`), so scoring a batch costs no
        pass over the graph. New samples get the node indices after the graph's, in order.
        """
        self._check_fitted()
        if self._embedded is None:
            self._embedded = {"states": self.learner.layer_states(self.graph_), "signals": {}, "new": None}
        cache = self._embedded
        h = dict(cache["states"][-1])
        c = self.chosen_
        uses_links = any(w > 0 for w in c["weights"]) and bool(self.learner.target_edge_types_)
        uses_labels = c["alpha"] < 1 and self.learner.label_head_ is not None
        z = labels = None
        if uses_links or uses_labels:
            key = (c["alpha"], c["steps"], uses_links, uses_labels)
            if key not in cache["signals"]:
                cache["signals"][key] = self._propagate(h, links=uses_links, labels=uses_labels)
            z, labels = cache["signals"][key]
            z = None if z is None else [(raw, dict(unit)) for raw, unit in z]
            labels = None if labels is None else dict(labels)
        for node_type, (x, neighbours, cosine, h_new) in self._extended(new).items():
            h[node_type] = torch.cat([h[node_type], h_new])
            for space, (raw, unit) in zip(self._link_spaces(), z, strict=True) if z is not None else ():
                if node_type in unit:
                    start = torch.zeros(len(x), raw[space].shape[1])
                    if node_type == space:
                        start = self._link_signal(space, x)
                    out = self._propagation().extend(raw, node_type, start, neighbours, cosine, **self._steps())
                    unit[node_type] = torch.cat([unit[node_type], F.normalize(out, dim=1)])
            if labels is not None:
                start = torch.softmax(self.learner.label_logits({node_type: h_new}, node_type), dim=1)
                out = self._propagation().extend(labels, node_type, start, neighbours, cosine, **self._steps())
                labels[node_type] = torch.cat([labels[node_type], out])
        map_weight = c.get("map", 0.0) if getattr(self, "map_", None) is not None else 0.0
        mapped = (map_weight, self.map_.scorer(new)) if map_weight else None
        scorer = _GNNScorer(
            self.learner, h, None if z is None else [unit for _, unit in z], labels, c["weights"], mapped
        )
        if c.get("hubness", 0.0) and self.learner.target_edge_types_:
            hubs = cache.setdefault("hubs", {}).setdefault(
                (c["alpha"], c["steps"], tuple(c["weights"]), map_weight), {}
            )  # the training candidates' hub scores, kept while the weights and the propagation stay
            num_view = {t: self.graph_[t].num_nodes for t in self.graph_.node_types}
            scorer = _HubnessCorrected(scorer, c["hubness"], self.train_rows_, num_view, hubs)
        return scorer

    def _extended(self, new: Mapping[NodeType, Tensor] | None) -> dict[NodeType, tuple[Tensor, ...]]:
        """Per new node type: features, neighbours in the graph, their cosines and representations
        (kept for the last ``new``, by identity, until the weights change)."""
        cache = self._embedded
        if not new:
            return {}
        if cache["new"] is not None and cache["new"][0] is new:
            return cache["new"][1]
        out = {}
        for node_type, x in new.items():
            if node_type not in self.graph_.node_types:
                raise DataError(
                    f"The model was fitted on the modalities {self.graph_.node_types}; got new samples of "
                    f"{node_type!r}."
                )
            if x.shape[0]:
                x = x.float()
                neighbours, cosine = self.builder.neighbours(self.graph_, node_type, x)
                relation = (node_type, self.builder.similarity_relation, node_type)
                h_new = self.learner.extend(
                    cache["states"], self.graph_, relation, x, neighbours, cosine.clamp_min(0.0)
                )
                out[node_type] = (x, neighbours, cosine, h_new)
        cache["new"] = (new, out)
        return out

    def _propagation(self) -> PropagationGraph:
        if self._propagation_graph is None:
            self._propagation_graph = PropagationGraph(
                self.graph_, temperature=self.settings.propagation_temperature, link_weight=LINK_EDGE_WEIGHT
            )
        return self._propagation_graph

    def _steps(self) -> dict[str, Any]:
        return {"alpha": self.chosen_["alpha"], "steps": self.chosen_["steps"]}

    def _link_spaces(self) -> tuple[NodeType, NodeType]:
        src, _, dst = self.learner.target_edge_types_[0]
        return src, dst

    def _link_signal(self, space: NodeType, x: Tensor) -> Tensor:
        """Features of ``space`` centred on its training rows' mean (computed once), at unit length."""
        centres = self._embedded.setdefault("centres", {})
        if space not in centres:
            centres[space] = self.graph_[space].x[self.train_rows_[space]].float().mean(0)
        return F.normalize(x.float() - centres[space], dim=1)

    def _propagate(
        self, h: dict[NodeType, Tensor], *, links: bool, labels: bool
    ) -> tuple[list[tuple[dict[NodeType, Tensor], dict[NodeType, Tensor]]] | None, dict[NodeType, Tensor] | None]:
        """The chosen propagation over the training graph: per link space the raw and the unit-length
        signals of every node, and the smoothed label distributions."""
        graph, propagation = self.graph_, self._propagation()
        z = None
        if links:
            z = []
            for space in self._link_spaces():
                out = propagation.propagate({space: self._link_signal(space, graph[space].x)}, **self._steps())
                z.append((out, {t: F.normalize(out[t], dim=1) for t in self._link_spaces()}))
        smoothed = None
        if labels:
            start = {}
            for node_type in graph.node_types:
                p = torch.softmax(self.learner.label_logits(h, node_type), dim=1)
                y = graph[node_type].get("y")  # training labels only, -1 elsewhere
                if y is not None:
                    known = y >= 0
                    p[known] = F.one_hot(y[known], p.shape[1]).float()
                start[node_type] = p
            smoothed = propagation.propagate(start, **self._steps())
        return z, smoothed

    def _state(self) -> tuple[dict[str, Tensor], dict[str, Any]]:
        tensors, meta = self.learner.state()
        out = {f"learner.{k}": v for k, v in tensors.items()}
        for node_type in self.graph_.node_types:  # the kNN graph, so that loading needs no search
            store = self.graph_[node_type, self.builder.similarity_relation, node_type]
            out[f"similarity.{node_type}.edge_index"] = store.edge_index
            if "edge_weight" in store:
                out[f"similarity.{node_type}.edge_weight"] = store.edge_weight
        state = {"learner": meta, "training": self.training_}
        if getattr(self, "map_", None) is not None:
            map_tensors, state["map"] = self.map_._state()
            out.update({f"map.{k}": v for k, v in map_tensors.items()})
        return out, state

    def _restore(self, tensors: dict[str, Tensor], state: dict[str, Any], train: TrainView) -> None:
        prefix = "learner."
        self.training_ = state.get("training", "full")
        learner_class = SIGNLearner if self.training_ == "minibatch" else RelationLearner
        self.learner = learner_class.from_state(
            {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}, state["learner"]
        )
        labels, _ = _labels_with_borrowed(train) if train.kind == "label" else ({}, None)
        similarity = {
            t: (tensors[f"similarity.{t}.edge_index"], tensors.get(f"similarity.{t}.edge_weight"))
            for t in train.node_types
        }
        self.graph_ = self.builder.build(train.features, train.links, labels=labels or None, similarity=similarity)
        self.train_rows_ = train.train_rows
        self._embedded = self._propagation_graph = None
        self.map_ = None
        if "map" in state:
            self.map_ = TransferBaseline()
            self.map_._restore({k[len("map.") :]: v for k, v in tensors.items() if k.startswith("map.")}, state["map"],
                               train)
            self.map_.fitted_ = True

    def config(self) -> dict[str, Any]:
        out = dataclasses.asdict(self.settings)
        out["propagation_chosen"] = self.chosen_
        if hasattr(self, "training_"):
            out["training_used"] = self.training_
        return out


class _GNNScorer:
    """Scores over one graph: the learner's logits plus the chosen propagation terms and the ridge
    map's score (``mapped``: its weight and scorer)."""

    def __init__(
        self, learner: RelationLearner, h: dict[NodeType, Tensor], z: list[dict[NodeType, Tensor]] | None,
        labels: dict[NodeType, Tensor] | None, weights: tuple[float, float], mapped: tuple[float, Any] | None = None,
    ) -> None:
        self.learner, self.h, self.z, self.labels, self.weights = learner, h, z, labels, weights
        self.mapped = mapped

    def link_scores(self, edge_type: EdgeType, query: Tensor, candidates: Tensor, *, reverse: bool) -> Tensor:
        if not self.learner.target_edge_types_:
            raise NotApplicableError("This 'gnn' model was fitted for labels; it does not score links.")
        scores = self.learner.score(self.h, edge_type, query, candidates, reverse=reverse)
        if self.z is not None:
            src, _, dst = edge_type
            query_type, cand_type = (dst, src) if reverse else (src, dst)
            for weight, z in zip(self.weights, self.z, strict=True):
                if weight:
                    scores = scores + weight * (z[query_type][query] @ take_rows(z[cand_type], candidates).T)
        if self.mapped is not None:
            weight, mapped = self.mapped
            scores = scores + weight * mapped.link_scores(edge_type, query, candidates, reverse=reverse)
        return scores

    def predict_labels(self, node_type: NodeType) -> Tensor:
        if self.labels is not None:
            return self.labels[node_type].argmax(dim=1)
        return self.learner.label_logits(self.h, node_type).argmax(dim=1)


class _HubnessCorrected:
    """Link scores minus ``weight`` times each candidate's hub score: its mean score over the
    ``HUBNESS_NEIGHBOURS`` training queries that score it highest (CSLS). ``hubs`` keeps the hub
    scores of the training view's candidates across scorers; a new candidate's are computed here."""

    def __init__(self, base: _GNNScorer, weight: float, train_rows: Mapping[NodeType, Tensor],
                 num_view: Mapping[NodeType, int], hubs: dict[tuple[EdgeType, bool], Tensor]) -> None:
        self.base, self.weight, self.train_rows, self.num_view, self.hubs = base, weight, train_rows, num_view, hubs
        self._new_hubs: dict[tuple[EdgeType, bool], Tensor] = {}

    def _hub_scores(self, edge_type: EdgeType, candidates: Tensor, reverse: bool) -> Tensor:
        query_type, cand_type = (edge_type[2], edge_type[0]) if reverse else (edge_type[0], edge_type[2])
        queries = self.train_rows[query_type]
        num_view = self.num_view[cand_type]
        num_all = self.base.h[cand_type].shape[0]
        key = (edge_type, reverse)

        def compute(nodes: Tensor) -> Tensor:
            out = []
            for part in nodes.split(4096):
                scores = self.base.link_scores(edge_type, queries, part, reverse=reverse)
                out.append(scores.topk(min(HUBNESS_NEIGHBOURS, scores.shape[0]), dim=0).values.mean(0))
            return torch.cat(out) if out else torch.zeros(0)

        if key not in self.hubs:
            self.hubs[key] = compute(torch.arange(num_view))
        if key not in self._new_hubs:
            self._new_hubs[key] = compute(torch.arange(num_view, num_all))
        return torch.cat([self.hubs[key], self._new_hubs[key]])[candidates]

    def link_scores(self, edge_type: EdgeType, query: Tensor, candidates: Tensor, *, reverse: bool) -> Tensor:
        scores = self.base.link_scores(edge_type, query, candidates, reverse=reverse)
        return scores - self.weight * self._hub_scores(edge_type, candidates, reverse)

    def predict_labels(self, node_type: NodeType) -> Tensor:
        return self.base.predict_labels(node_type)


def _labels_with_borrowed(train: TrainView) -> tuple[dict[NodeType, Tensor], dict[NodeType, Tensor]]:
    """Training labels per node type, and the mask of those a model may learn from. A node type
    without labels of its own borrows them through training links, as the label baselines do
    (:meth:`TrainView.label_sources`): ``digits-audio-label`` has labelled images and a few
    clips linked to them."""
    labels, mask = {}, {}
    for node_type in train.node_types:
        y = train.labels.get(node_type, torch.full((train.num_nodes(node_type),), -1, dtype=torch.long)).clone()
        if not bool((y >= 0).any()):
            try:
                nodes, borrowed, _ = train.label_sources(node_type)
                y[nodes] = borrowed
            except NotApplicableError:
                pass
        labels[node_type], mask[node_type] = y, y >= 0
    return labels, mask
