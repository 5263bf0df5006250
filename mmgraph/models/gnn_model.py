"""The default relation learner, as a model: graph from the training view, scores for new samples."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from mmgraph.checks import check_choice, check_positive_int
from mmgraph.data.dataset import ITEM_RELATION
from mmgraph.data.prepared import ITEM, ItemQueries, TrainView
from mmgraph.errors import ConfigError, DataError, NotApplicableError, SavedFileError
from mmgraph.graph import GraphBuilder
from mmgraph.graph.knn import KNN_METHODS
from mmgraph.models.base import ItemValidate, RelationModel, Scorer, Scoring, Validate
from mmgraph.models.baselines.transfer import TransferBaseline
from mmgraph.models.learners import LEARNERS, Learner, RelationLearnerConfig, TrainingGraph, take_rows
from mmgraph.models.propagation import PropagationGraph
from mmgraph.models.terms import HUBNESS_WEIGHTS, HubnessCorrected, WeightedSum, choose
from mmgraph.training.checkpoint import Checkpoint
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
# Weights of the ridge map's score (the `transfer` model, fitted on the same training links and chosen
# on validation) beside the learned and propagated scores (0: unused; 1000: the map decides alone).
MAP_WEIGHTS: tuple[float, ...] = (0.0, 1.0, 3.0, 10.0, 1000.0)
TRAINING_MODES: tuple[str, ...] = ("auto", *LEARNERS.names())
"""The ``training`` settings: a learner's training mode (:data:`~mmgraph.models.learners.LEARNERS`), or
``"auto"``, which picks one by the graph's size."""
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
    # features and mini-batches of links (mmgraph.models.learners.sign, memory linear in nodes; the mode
    # that runs under torchrun); "auto": full up to FULL_BATCH_MAX_NODES nodes, minibatch beyond.
    training: str = "auto"
    minibatch_size: int = 1024  # links (or labelled nodes) per step in minibatch mode, shared among processes
    # item tasks: the probability that a training sample keeps the links to its item partners at a training
    # step, so that training items come as partial as the held-out ones (None: the task's keep; 1: all kept).
    # Measured on emoji-items-group:keep=0.5, seed 0, validation accuracy: 0.960 with 1, 0.955 with the task's
    # keep (benchmarks/experiments.md, 2026-12-03), so whole items stay the default.
    item_keep: float | None = 1.0


@dataclass(frozen=True)
class GNNChoices:
    """What :class:`GNNModel` chose on validation, in the order it chose them (each search keeps
    the earlier choices). The defaults are the learned score alone."""

    weights: tuple[float, float] = (0.0, 0.0)  # of the propagation terms in the source and the target space
    alpha: float = 1.0  # restart probability of the propagation (of label smoothing on label tasks)
    steps: int = 0  # propagation steps (0: none)
    map: float = 0.0  # weight of the ridge map's score (0: no map kept)
    map_settings: dict[str, Any] | None = field(default=None, hash=False)  # the kept map's own choices
    hubness: float = 0.0  # weight of the hubness correction (0: none)
    val: float | None = None  # validation score of the last search (None: validation asked nothing)

    def record(self) -> dict[str, Any]:
        """The choices as JSON values (what ``config()`` shows and ``model.json`` keeps)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> GNNChoices:
        """The choices :meth:`record` wrote; an unknown key raises ``SavedFileError``."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(record) - known)
        if unknown:
            raise SavedFileError(f"The saved 'gnn' choices have unknown keys {unknown}; known: {sorted(known)}.")
        values = dict(record)
        if "weights" in values:
            values["weights"] = tuple(float(w) for w in values["weights"])
        return cls(**values)


class GNNModel(RelationModel):
    """The default relation learner (see :class:`RelationLearner`) over a graph of the training view.

    ``fit`` builds the graph from the training view alone (kNN similarity edges inside each
    modality, the training links with their reverses) and trains the learner on it. A new
    sample is attached by its ``k`` most similar training nodes, from which it receives
    messages (it sends none), and scored by the same networks.

    A link score is a :class:`~mmgraph.models.terms.WeightedSum` of terms whose weights are chosen
    on validation, one search after another (:func:`~mmgraph.models.terms.choose`; 0 is always
    among the weights, so each term is kept only where validation prefers it):

    - the learner's logits (weight 1);
    - propagation over the same graph (:class:`~mmgraph.models.propagation.PropagationGraph`):
      ``w_s <z_q, z_c> + w_d <z'_q, z'_c>`` where ``z`` and ``z'`` are the source and the target
      modality's features (centred on the training mean) propagated through similarity and link
      edges (APPNP-style), the weights chosen with the propagation's settings;
    - a ridge map between the two link spaces (the ``transfer`` model, its own settings chosen
      on validation), its weight chosen next.

    Label predictions are smoothed over the graph, Correct-and-Smooth style, with training
    labels clamped (the restart probability chosen on validation).

    Link scores are then corrected for hubness (:class:`~mmgraph.models.terms.HubnessCorrected`),
    as CSLS does in cross-lingual word translation; its weight is chosen last. The choices are
    in ``choices_`` (:class:`GNNChoices`).

    Large graphs (``training="minibatch"``, or ``"auto"`` beyond ``FULL_BATCH_MAX_NODES`` nodes or under
    ``torchrun``) train :class:`~mmgraph.models.learners.SIGNLearner` instead: propagated features computed
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
        item_keep = self.settings.item_keep
        if item_keep is not None and not (isinstance(item_keep, int | float) and 0 < item_keep <= 1):
            raise ConfigError(
                f"The 'item_keep' setting of the 'gnn' model is a probability in (0, 1], or None for the task's "
                f"keep. Got {item_keep!r}."
            )
        if self.settings.training not in TRAINING_MODES:
            raise ConfigError(
                f"The 'training' setting of the 'gnn' model must be one of {TRAINING_MODES}. "
                f"Got {self.settings.training!r} instead."
            )

    # ------------------------------------------------------------------ fitting
    def _fit(
        self, train: TrainView, *, validate: Validate | None, progress: bool, checkpoint: Checkpoint | None
    ) -> None:
        self._embedded: dict[str, Any] | None = None  # the training graph's states and signals (see scorer)
        self._saved_warm: tuple[dict[str, Tensor], dict[str, Any]] | None = None  # see _warm_state
        self._propagation_graph: PropagationGraph | None = None
        self.training_ = self._training_mode(sum(train.num_nodes(t) for t in train.node_types))
        self.learner_ = LEARNERS.get(self.training_).from_settings(self.settings)
        # mini-batch features: each node reads its own k nearest, as a new sample does
        self.builder_ = self._make_builder(symmetric=self.training_ != "minibatch")
        labels, label_mask = _labels_with_borrowed(train) if train.kind == "label" else ({}, None)
        self.graph_ = self.builder_.build(train.features, train.links, labels=labels or None)
        self.train_rows_ = train.train_rows
        targets = _target_edge_types(train)
        metric = "mrr" if train.kind == "link" else "accuracy"
        maskable = [
            t for src, rel, dst in train.cold_link_types
            for t in ((src, rel, dst), (dst, self.builder_.reverse_prefix + rel, src))
        ]
        if train.item_modalities and targets:
            # An item query's samples receive their partners' messages, so around a supervised sample
            # only the links to the target modality are hidden (the answer and every candidate have
            # none); its item partners stay. On the synthetic item task of tests/models/test_gnn_items.py
            # (30 and 100 epochs, one seed) item MRR went 0.30 -> 0.38 and 0.70 -> 0.79 with this, and
            # partner messages helped (0.79 against 0.70 without them) where they hurt before (0.70, 0.72).
            target = _target_modality(train)
            maskable = [t for t in maskable if target in (t[0], t[2])]
        learned_only = GNNChoices()

        # An item task's learner is chosen on its validation items (the scores its questions get);
        # the terms below score single samples, so they are left out of an item task's model.
        items_validate = validate.items if train.item_modalities and isinstance(validate, ItemValidate) else None

        def learner_score() -> float:
            self._embedded = None  # new weights
            if items_validate is not None:
                return items_validate(self._item_scorer).get(metric, float("-inf"))
            return validate(self._scoring(learned_only)).get(metric, float("-inf"))

        problem = TrainingGraph(
            self.graph_, target_edge_types=targets, num_classes=len(train.classes), maskable_edge_types=maskable,
            similarity_relation=self.builder_.similarity_relation, label_train_mask=label_mask,
            train_rows=train.train_rows, item_edge_types=self._item_edge_types() if train.item_modalities else (),
            item_keep=train.keep if self.settings.item_keep is None else self.settings.item_keep,
        )
        self.learner_.fit(
            problem, validate=learner_score if validate is not None else None, progress=progress, checkpoint=checkpoint
        )
        self._embedded = None
        choices, ridge = learned_only, None
        if items_validate is not None:  # the learner's best validation score on the items is the record's
            self.choices_, self.map_ = dataclasses.replace(choices, val=self.learner_.best_val_), ridge
            return
        if self.settings.propagation and validate is not None:
            choices = self._choose_propagation(validate, links=train.kind == "link", metric=metric)
        if self.settings.linear_map and validate is not None and train.kind == "link":
            choices, ridge = self._choose_map(train, validate, metric, choices)
        if self.settings.hubness and validate is not None and train.kind == "link":
            choices = self._choose_weight("hubness", HUBNESS_WEIGHTS, validate, metric, choices, ridge)
        self.choices_, self.map_ = choices, ridge

    def _training_mode(self, num_nodes: int) -> str:
        """``"full"`` or ``"minibatch"``: the setting, or for ``"auto"`` by the graph's size (and
        always minibatch under torchrun, whose ranks share mini-batches)."""
        if self.settings.training != "auto":
            return self.settings.training
        if int(os.environ.get("WORLD_SIZE", "1")) > 1 or num_nodes > FULL_BATCH_MAX_NODES:
            return "minibatch"
        return "full"

    def _make_builder(self, *, symmetric: bool) -> GraphBuilder:
        """The graph builder of the settings (``symmetric``: similarity edges both ways)."""
        return GraphBuilder(k=self.settings.k, method=self.settings.knn, symmetric=symmetric)

    def _choose_propagation(self, validate: Validate, *, links: bool, metric: str) -> GNNChoices:
        """The propagation settings and weights with the best validation score."""
        if links:
            settings = [
                (alpha, steps, (a, b))
                for alpha, steps in PROPAGATION_SETTINGS for a in LINK_WEIGHTS for b in LINK_WEIGHTS
            ]
        else:
            settings = [(alpha, LABEL_STEPS, (0.0, 0.0)) for alpha in LABEL_ALPHAS]

        def scoring(setting: tuple[float, int, tuple[float, float]]) -> Scoring:
            alpha, steps, weights = setting
            return self._scoring(GNNChoices(weights=weights, alpha=alpha, steps=steps))

        best = choose(settings, scoring, validate, keys=(metric,), desc="propagation")
        if metric not in best:
            return GNNChoices()
        alpha, steps, weights = best[metric].setting
        return GNNChoices(weights=weights, alpha=alpha, steps=steps, val=best[metric].score)

    def _choose_map(
        self, train: TrainView, validate: Validate, metric: str, choices: GNNChoices
    ) -> tuple[GNNChoices, TransferBaseline | None]:
        """Fits the ridge map (as the `transfer` model does, its settings chosen on validation) and
        picks its score's weight with the best validation score (the rest as chosen); the map is
        kept only if its weight is not 0. On an item task the map is a term of the single-sample
        scores only, so it is fitted on the view as a single-sample task's."""
        single = dataclasses.replace(train, item_modalities=())
        ridge = TransferBaseline(seed=self.settings.seed, hubness=False).fit(single, validate=validate, progress=False)
        choices = self._choose_weight("map", MAP_WEIGHTS, validate, metric, choices, ridge)
        if not choices.map:
            return choices, None  # unused: nothing to keep or save
        return dataclasses.replace(choices, map_settings=ridge.chosen_), ridge

    def _choose_weight(
        self, name: str, weights: tuple[float, ...], validate: Validate, metric: str, choices: GNNChoices,
        ridge: TransferBaseline | None,
    ) -> GNNChoices:
        """``choices`` with the weight ``name`` (a field of :class:`GNNChoices`) of the best
        validation score (0.0 where validation asks nothing)."""
        best = choose(
            weights, lambda w: self._scoring(dataclasses.replace(choices, **{name: w}), ridge), validate,
            keys=(metric,), desc=name,
        )
        if metric not in best:
            return dataclasses.replace(choices, **{name: 0.0})
        return dataclasses.replace(choices, **{name: best[metric].setting, "val": best[metric].score})

    # ------------------------------------------------------------------ scoring
    def scorer(self, new: Mapping[NodeType, Tensor] | None = None, *, choices: GNNChoices | None = None) -> Scorer:
        """Attaches the ``new`` samples to the fitted graph and scores them (see :class:`Scorer`).

        Args:
            new: features of new samples per modality; each is attached to the training graph
                on its own (new samples never see each other).
            choices: score with other choices than those made on validation (what a search
                tries); the ridge map is there only if one was kept.
        """
        self._check_fitted()
        return self._scorer(new, self.choices_ if choices is None else choices, self.map_)

    def item_scorer(self, new: Mapping[NodeType, Tensor] | None, items: ItemQueries) -> Scorer:
        """Attaches each of ``items`` to the fitted graph as a whole and scores it (queries of type ``ITEM``).

        Each kept sample of an item is attached as a single new sample is (it receives from its
        ``k`` most similar training nodes of its modality) and is linked to the item's other
        samples by the training graph's ``same_item`` edges, both directions, so the item's
        samples exchange messages in the learner's layers. Nothing is linked between different
        items and nothing flows into the training graph, so an item scores the same alone or in
        a batch of items, and removing one of its samples changes that item's scores only.

        - ``link_scores((ITEM, relation, target), item_index, candidates)``: the mean over the
          item's samples of the learner's logits for the link type joining the sample's modality
          to the target (each item modality learns its own on an item task). Candidates are the
          target's view nodes then new samples, each attached alone, never to an item.
        - ``predict_labels(ITEM)``: the label head on the mean of the item's samples'
          representations. The head is linear, so this is the mean of their logits: a confident
          sample counts more than an unsure one, where a mean of probabilities would flatten it.

        The learner's networks answer alone: the propagation, the ridge map and the hubness
        correction score single samples; on an item task they are not fitted, and the learner's
        epoch is chosen on the validation items.

        Args:
            new: the new samples' features per modality (``PreparedTask.new_samples(part)``).
            items: the items; their members are scoring indices of new samples.

        Raises:
            NotApplicableError: the learner cannot attach items (``training="minibatch"``), or an
                item's samples are training-view nodes (the transductive setting).
        """
        self._check_fitted()
        return self._item_scorer(new, items)

    def _item_scorer(self, new: Mapping[NodeType, Tensor] | None, items: ItemQueries) -> Scorer:
        """:meth:`item_scorer` with the learner's current weights (also during ``fit``, where item
        validation scores it)."""
        cache = self._cache()
        new = new or {}
        attachments, rows = {}, {}
        for modality, members in items.members.items():
            if not members.numel():
                continue
            num_view = self.graph_[modality].num_nodes
            if bool((members < num_view).any()):
                raise NotApplicableError(
                    f"The 'gnn' model attaches an item's samples as new samples; {int((members < num_view).sum())} "
                    f"of the {modality!r} samples of these items are nodes of its training view (the transductive "
                    "setting). Ask item queries in the inductive setting."
                )
            x = new[modality][members - num_view].float()
            neighbours, cosine = self.builder_.neighbours(self.graph_, modality, x)
            attachments[modality] = (x, neighbours, cosine.clamp_min(0.0))
            rows[modality] = items.member_items[modality]
        partners = self._item_partners(rows)
        h = self.learner_.extend_items(
            cache["states"], self.graph_, self.builder_.similarity_relation, attachments, partners
        )
        return _ItemScores(self, new, h, rows, num_items=len(items))

    def _item_partners(self, rows: dict[NodeType, Tensor]) -> dict[EdgeType, Tensor]:
        """The edges between the samples of each item, by the training graph's ``same_item`` types
        (both directions): ``[source row, target row]`` per edge type (``rows``: each sample's item)."""
        return {
            (src, relation, dst): (rows[src][:, None] == rows[dst][None, :]).nonzero().T
            for src, relation, dst in self._item_edge_types() if src in rows and dst in rows
        }

    def _item_edge_types(self) -> list[EdgeType]:
        """The training graph's ``same_item`` link types between two modalities, both directions."""
        relations = {ITEM_RELATION, self.builder_.reverse_prefix + ITEM_RELATION}
        return [(src, rel, dst) for src, rel, dst in self.graph_.edge_types if rel in relations and src != dst]

    def _scoring(self, choices: GNNChoices, ridge: TransferBaseline | None = None) -> Scoring:
        """The scoring validation tries for ``choices`` (during ``fit``)."""
        return lambda new: self._scorer(new, choices, ridge)

    def _scorer(
        self, new: Mapping[NodeType, Tensor] | None, c: GNNChoices, ridge: TransferBaseline | None
    ) -> Scorer:
        """The score terms of ``c`` over the graph and the ``new`` samples (``ridge``: the map term's model)."""
        cache = self._cache()
        steps = {"alpha": c.alpha, "steps": c.steps}
        h = dict(cache["states"][-1])
        key = self._signals_key(c)
        z = labels = None
        if key is not None:
            _, _, uses_links, uses_labels = key
            if key not in cache["signals"]:
                cache["signals"][key] = self._propagate(h, steps, links=uses_links, labels=uses_labels)
            z, labels = cache["signals"][key]
            z = None if z is None else [(raw, dict(unit)) for raw, unit in z]
            labels = None if labels is None else dict(labels)
        extended = self._extended(new)
        for node_type, (x, neighbours, cosine, h_new) in extended.items():
            h[node_type] = torch.cat([h[node_type], h_new])
            for space, (raw, unit) in zip(self._link_spaces(), z, strict=True) if z is not None else ():
                if node_type in unit:
                    start = torch.zeros(len(x), raw[space].shape[1])
                    if node_type == space:
                        start = self._link_signal(space, x)
                    out = self._propagation().extend(raw, node_type, start, neighbours, cosine, **steps)
                    unit[node_type] = torch.cat([unit[node_type], F.normalize(out, dim=1)])
            if labels is not None:
                start = torch.softmax(self.learner_.label_logits({node_type: h_new}, node_type), dim=1)
                out = self._propagation().extend(labels, node_type, start, neighbours, cosine, **steps)
                labels[node_type] = torch.cat([labels[node_type], out])
        terms, weights = [_LearnedScores(self.learner_, h, labels)], [1.0]
        if z is not None:
            terms += [_Propagated(unit) for _, unit in z]
            weights += list(c.weights)
        map_weight = c.map if ridge is not None else 0.0
        if map_weight:
            terms.append(ridge.scorer(new))
            weights.append(map_weight)
        scorer = WeightedSum(terms, weights)
        if not (c.hubness and self.learner_.target_edge_types_):
            return scorer
        # the training candidates' hub scores, kept while the weights and the propagation stay
        hubs = cache.setdefault("hubs", {}).setdefault(self._hubs_key(c, ridge), {})
        num_view = {t: self.graph_[t].num_nodes for t in self.graph_.node_types}
        num_new = {t: len(parts[0]) for t, parts in extended.items()}
        return HubnessCorrected(
            scorer, c.hubness, train_rows=self.train_rows_, num_view=num_view, num_new=num_new, hubs=hubs
        )

    def _signals_key(self, c: GNNChoices) -> tuple[float, int, bool, bool] | None:
        """The key of the propagated signals ``c`` reads in the cache: ``(alpha, steps, links,
        labels)``, or None when ``c`` propagates nothing."""
        uses_links = any(w > 0 for w in c.weights) and bool(self.learner_.target_edge_types_)
        uses_labels = c.alpha < 1 and self.learner_.num_classes_ > 0
        return (c.alpha, c.steps, uses_links, uses_labels) if uses_links or uses_labels else None

    def _hubs_key(self, c: GNNChoices, ridge: TransferBaseline | None) -> tuple[float, int, tuple[float, ...], float]:
        """The key of the hub scores of the sum ``c`` weighs (with the map term of ``ridge``) in the cache."""
        return (c.alpha, c.steps, tuple(c.weights), c.map if ridge is not None else 0.0)

    def _cache(self) -> dict[str, Any]:
        """What scorers share, computed once and kept until the weights change: ``states`` (the
        training graph's layer states), ``signals`` (its propagated signals, by
        :meth:`_signals_key`), ``hubs`` (its candidates' hub scores, by :meth:`_hubs_key`), ``new``
        (the last new samples' attachment). A loaded model starts from what was saved with it
        (:meth:`_warm_state`)."""
        if self._embedded is None:
            saved, self._saved_warm = self._saved_warm, None
            if saved is not None:
                self._embedded = self._read_warm(*saved)
            else:
                self._embedded = {"states": self.learner_.layer_states(self.graph_), "signals": {}, "new": None}
        return self._embedded

    def _warm_state(self) -> tuple[dict[str, Tensor], dict[str, Any]]:
        """What a scorer of the chosen settings computes whatever its new samples, as ``warm.*``
        tensors and their record: the training graph's layer states, its signals propagated as
        chosen (raw; the unit-length ones are computed from them on loading) and the training
        candidates' hub scores in both directions. Saved with the model, so that a loaded model's
        first prediction does only the work of its own samples."""
        scorer = self.scorer()
        if isinstance(scorer, HubnessCorrected):
            for edge_type in self.learner_.target_edge_types_[:1]:  # the task's; the others answer items only
                for reverse in (False, True):
                    scorer.hub_scores(edge_type, torch.zeros(0, dtype=torch.long), reverse=reverse)
        cache = self._embedded
        tensors = {f"warm.state.{i}.{t}": h for i, state in enumerate(cache["states"]) for t, h in state.items()}
        record: dict[str, Any] = {"states": len(cache["states"]), "signals": None, "hubs": None}
        key = self._signals_key(self.choices_)
        if key is not None:
            z, labels = cache["signals"][key]
            for i, (raw, unit) in enumerate(z or ()):
                tensors.update({f"warm.signal.{i}.{t}": raw[t] for t in unit})
            tensors.update({f"warm.labels.{t}": p for t, p in (labels or {}).items()})
            record["signals"] = list(key)
        key = self._hubs_key(self.choices_, self.map_)
        if key in cache.get("hubs", {}):
            for (edge_type, reverse), hubs in cache["hubs"][key].items():
                index = self.learner_.target_edge_types_.index(edge_type)
                tensors[f"warm.hubs.{index}.{'reverse' if reverse else 'forward'}"] = hubs
            record["hubs"] = list(key)
        return tensors, record

    def _read_warm(self, tensors: dict[str, Tensor], record: dict[str, Any]) -> dict[str, Any]:
        """The cache (see :meth:`_cache`) that :meth:`_warm_state` saved (memory-mapped tensors:
        a row is read from disk when a prediction needs it)."""
        node_types = self.graph_.node_types
        states = [{t: tensors[f"warm.state.{i}.{t}"] for t in node_types} for i in range(record["states"])]
        cache: dict[str, Any] = {"states": states, "signals": {}, "new": None}
        if record["signals"] is not None:
            alpha, steps, uses_links, uses_labels = record["signals"]
            z = labels = None
            if uses_links:
                spaces = self._link_spaces()
                z = []
                for i in range(len(spaces)):
                    raw = {t: tensors[f"warm.signal.{i}.{t}"] for t in spaces}
                    z.append((raw, {t: F.normalize(raw[t], dim=1) for t in spaces}))
            if uses_labels:
                labels = {t: tensors[f"warm.labels.{t}"] for t in node_types}
            cache["signals"][(alpha, steps, uses_links, uses_labels)] = (z, labels)
        if record["hubs"] is not None:
            alpha, steps, weights, map_weight = record["hubs"]
            cache["hubs"] = {(alpha, steps, tuple(weights), map_weight): {
                (edge_type, reverse): tensors[f"warm.hubs.{index}.{'reverse' if reverse else 'forward'}"]
                for index, edge_type in enumerate(self.learner_.target_edge_types_[:1]) for reverse in (False, True)
            }}
        return cache

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
                neighbours, cosine = self.builder_.neighbours(self.graph_, node_type, x)
                relation = (node_type, self.builder_.similarity_relation, node_type)
                h_new = self.learner_.extend(
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

    def _link_spaces(self) -> tuple[NodeType, NodeType]:
        src, _, dst = self.learner_.target_edge_types_[0]
        return src, dst

    def _link_signal(self, space: NodeType, x: Tensor) -> Tensor:
        """Features of ``space`` centred on its training rows' mean (computed once), at unit length."""
        centres = self._embedded.setdefault("centres", {})
        if space not in centres:
            centres[space] = self.graph_[space].x[self.train_rows_[space]].float().mean(0)
        return F.normalize(x.float() - centres[space], dim=1)

    def _propagate(
        self, h: dict[NodeType, Tensor], steps: dict[str, Any], *, links: bool, labels: bool
    ) -> tuple[list[tuple[dict[NodeType, Tensor], dict[NodeType, Tensor]]] | None, dict[NodeType, Tensor] | None]:
        """The propagation of ``steps`` (``alpha`` and ``steps``) over the training graph: per link
        space the raw and the unit-length signals of every node, and the smoothed label distributions."""
        graph, propagation = self.graph_, self._propagation()
        z = None
        if links:
            z = []
            for space in self._link_spaces():
                out = propagation.propagate({space: self._link_signal(space, graph[space].x)}, **steps)
                z.append((out, {t: F.normalize(out[t], dim=1) for t in self._link_spaces()}))
        smoothed = None
        if labels:
            start = {}
            for node_type in graph.node_types:
                p = torch.softmax(self.learner_.label_logits(h, node_type), dim=1)
                y = graph[node_type].get("y")  # training labels only, -1 elsewhere
                if y is not None:
                    known = y >= 0
                    p[known] = F.one_hot(y[known], p.shape[1]).float()
                start[node_type] = p
            smoothed = propagation.propagate(start, **steps)
        return z, smoothed

    # ------------------------------------------------------------------ persistence
    def _state(self) -> tuple[dict[str, Tensor], dict[str, Any]]:
        tensors, meta = self.learner_.state()
        out = {f"learner.{k}": v for k, v in tensors.items()}
        for node_type in self.graph_.node_types:  # the kNN graph, so that loading needs no search
            store = self.graph_[node_type, self.builder_.similarity_relation, node_type]
            out[f"similarity.{node_type}.edge_index"] = store.edge_index
            if "edge_weight" in store:
                out[f"similarity.{node_type}.edge_weight"] = store.edge_weight
        state = {"learner": meta, "training": self.training_}
        if self.map_ is not None:
            map_tensors, state["map"] = self.map_.state()
            out.update({f"map.{k}": v for k, v in map_tensors.items()})
        warm, state["warm"] = self._warm_state()
        out.update(warm)
        return out, state

    def _restore(self, tensors: dict[str, Tensor], state: dict[str, Any], train: TrainView) -> None:
        prefix = "learner."
        self.training_ = state["training"]
        self.learner_ = LEARNERS.get(self.training_).from_state(
            {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}, state["learner"]
        )
        self.builder_ = self._make_builder(symmetric=self.training_ != "minibatch")
        labels, _ = _labels_with_borrowed(train) if train.kind == "label" else ({}, None)
        similarity = {
            t: (tensors[f"similarity.{t}.edge_index"], tensors.get(f"similarity.{t}.edge_weight"))
            for t in train.node_types
        }
        self.graph_ = self.builder_.build(train.features, train.links, labels=labels or None, similarity=similarity)
        self.train_rows_ = train.train_rows
        self._embedded = self._propagation_graph = None
        self._saved_warm = ({k: v for k, v in tensors.items() if k.startswith("warm.")}, state["warm"])
        self.map_ = None
        if "map" in state:
            map_tensors = {k[len("map.") :]: v for k, v in tensors.items() if k.startswith("map.")}
            self.map_ = TransferBaseline.from_state(map_tensors, state["map"], train)

    def _chosen_record(self) -> dict[str, Any]:
        return self.choices_.record()

    def _restore_chosen(self, chosen: dict[str, Any] | None) -> None:
        self.choices_ = GNNChoices() if chosen is None else GNNChoices.from_record(chosen)

    def config(self) -> dict[str, Any]:
        out = dataclasses.asdict(self.settings)
        if hasattr(self, "choices_"):
            out["propagation_chosen"] = self.choices_.record()
        if hasattr(self, "training_"):
            out["training_used"] = self.training_
        return out


class _LearnedScores:
    """The learner's term: its link logits over one graph's node states ``h``, and its label
    predictions (``labels``: the smoothed distributions, if chosen)."""

    def __init__(self, learner: Learner, h: dict[NodeType, Tensor], labels: dict[NodeType, Tensor] | None):
        self.learner, self.h, self.labels = learner, h, labels

    def link_scores(self, edge_type: EdgeType, query: Tensor, candidates: Tensor, *, reverse: bool) -> Tensor:
        if not self.learner.target_edge_types_:
            raise NotApplicableError("This 'gnn' model was fitted for labels; it does not score links.")
        return self.learner.score(self.h, edge_type, query, candidates, reverse=reverse)

    def predict_labels(self, node_type: NodeType) -> Tensor:
        if self.labels is not None:
            return self.labels[node_type].argmax(dim=1)
        return self.learner.label_logits(self.h, node_type).argmax(dim=1)


class _ItemScores:
    """What :meth:`GNNModel.item_scorer` returns: links and labels of items from their samples'
    representations ``h`` (``rows``: each sample's item, aligned with ``h``)."""

    def __init__(
        self, model: GNNModel, new: Mapping[NodeType, Tensor], h: dict[NodeType, Tensor],
        rows: dict[NodeType, Tensor], *, num_items: int,
    ) -> None:
        self.model, self.new, self.h, self.rows, self.num_items = model, new, h, rows, num_items
        self._targets: dict[NodeType, Tensor] = {}  # the candidates' representations, computed once

    def link_scores(self, edge_type: EdgeType, query: Tensor, candidates: Tensor, *, reverse: bool) -> Tensor:
        learner = self.model.learner_
        if not learner.target_edge_types_:
            raise NotApplicableError("This 'gnn' model was fitted for labels; it does not score links.")
        if edge_type[0] != ITEM or reverse:
            raise NotApplicableError(
                f"An item scorer scores items against candidates, (ITEM, relation, target) with reverse=False. "
                f"Got edge type {edge_type} with reverse={reverse}."
            )
        target = edge_type[2]
        position = torch.full((self.num_items,), -1, dtype=torch.long)
        position[query] = torch.arange(len(query))
        total, count = torch.zeros(len(query), len(candidates)), torch.zeros(len(query), 1)
        for modality, items in self.rows.items():
            link_type = _link_type(learner.target_edge_types_, modality, edge_type[1], target)
            at = position[items]
            asked = at >= 0
            if link_type is None or not bool(asked.any()):
                continue
            h = {modality: self.h[modality][asked], target: self._candidates(target)}
            scores = learner.score(
                h, link_type, torch.arange(int(asked.sum())), candidates, reverse=link_type[0] == target
            )
            total.index_add_(0, at[asked], scores)
            count.index_add_(0, at[asked], torch.ones(len(scores), 1))
        if bool((count == 0).any()):
            missing = int(query[(count == 0).flatten()][0])
            raise NotApplicableError(
                f"The item {missing} has no sample of a modality this 'gnn' model learned to link to {target!r} "
                f"(it learned {learner.target_edge_types_}); fit it on the item task to learn one per item modality."
            )
        return total / count

    def _candidates(self, target: NodeType) -> Tensor:
        """Representations of the target's view nodes, then of its new samples, each attached alone."""
        if target not in self._targets:
            extended = self.model._extended({target: self.new[target]} if target in self.new else None)
            h = self.model._cache()["states"][-1][target]
            self._targets[target] = torch.cat([h, extended[target][3]]) if target in extended else h
        return self._targets[target]

    def predict_labels(self, node_type: NodeType) -> Tensor:
        if node_type != ITEM:
            raise NotApplicableError(f"An item scorer predicts the labels of items ({ITEM!r}); got {node_type!r}.")
        dim = next(iter(self.h.values())).shape[1]
        total, count = torch.zeros(self.num_items, dim), torch.zeros(self.num_items, 1)
        for modality, items in self.rows.items():
            total.index_add_(0, items, self.h[modality])
            count.index_add_(0, items, torch.ones(len(items), 1))
        mean = {ITEM: total / count.clamp_min(1)}
        return self.model.learner_.label_logits(mean, ITEM).argmax(dim=1)


def _link_type(link_types: list[EdgeType], modality: NodeType, relation: str, target: NodeType) -> EdgeType | None:
    """The type of ``link_types`` that joins ``modality`` to ``target`` by ``relation`` (either way), or None."""
    for edge_type in link_types:
        if edge_type[1] == relation and {edge_type[0], edge_type[2]} == {modality, target}:
            return edge_type
    return None


class _Propagated:
    """A propagation term: the dot product of query and candidate signals propagated from one
    link space (``z``: unit-length signals of every node, view nodes then new ones)."""

    def __init__(self, z: dict[NodeType, Tensor]) -> None:
        self.z = z

    def link_scores(self, edge_type: EdgeType, query: Tensor, candidates: Tensor, *, reverse: bool) -> Tensor:
        src, _, dst = edge_type
        query_type, cand_type = (dst, src) if reverse else (src, dst)
        return self.z[query_type][query] @ take_rows(self.z[cand_type], candidates).T


def _target_edge_types(train: TrainView) -> list[EdgeType]:
    """The link types the learner learns to score: the task's (first: the one the score terms and the
    choices are about), and on an item task also the types that join each other item modality to
    the target by the same relation, so that any of an item's samples can score the candidates."""
    if train.kind != "link":
        return []
    task_type = train.target_edge_type
    relation, target = task_type[1], _target_modality(train)
    others = []
    for edge_type in train.links:
        src, rel, dst = edge_type
        other_end = src if dst == target else dst if src == target else None
        if edge_type != task_type and rel == relation and other_end in train.item_modalities:
            others.append(edge_type)
    return [task_type, *others]


def _target_modality(train: TrainView) -> NodeType:
    """The modality a link task's answers are of: the end of its link type that is not its source."""
    src, _, dst = train.target_edge_type
    return dst if src == train.source else src


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
