"""What the baselines share: settings checks, preprocessing with training-row statistics,
nearest neighbours, and the link / label bases on top of :class:`~mmgraph.models.base.RelationModel`.

Every baseline learns from a :class:`~mmgraph.data.prepared.TrainView` only and keeps what it
learned (statistics, weights, maps, neighbour tables of training samples). Its ``scorer(new)``
appends the new samples' features after the view's and scores each row on its own: every
per-row step (standardisation, centring, a network, a ridge map, a neighbour search among
training samples) reads that row and the learned state, never another new sample.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import torch
import torch.nn.functional as F
from torch import Tensor

from mmgraph.checks import check_positive_int
from mmgraph.data.prepared import TrainView
from mmgraph.errors import ConfigError, DataError, NotApplicableError
from mmgraph.models.base import RelationModel, Scorer, Scoring, Validate
from mmgraph.models.standardize import Standardize
from mmgraph.models.terms import HUBNESS_WEIGHTS, HubnessCorrected, PerDirection, choose
from mmgraph.training.checkpoint import Checkpoint
from mmgraph.typing import DIRECTIONS, EdgeType, NodeType, ScoreFn

S = TypeVar("S")


# ---------------------------------------------------------------------- settings checks
def check_positive(config: Any, model: str, names: tuple[str, ...]) -> None:
    """Checks that the settings ``names`` are positive numbers (tuples: at least one, all positive)."""
    for name in names:
        value = getattr(config, name)
        values = value if isinstance(value, tuple | list) else (value,)
        if not values or any(isinstance(v, bool) or not isinstance(v, int | float) or v <= 0 for v in values):
            what = "positive numbers, at least one" if isinstance(value, tuple | list) else "positive"
            raise ConfigError(f"The {name!r} parameter of the {model!r} model must be {what}. Got {value!r} instead.")


def check_positive_ints(config: Any, model: str, names: tuple[str, ...]) -> None:
    """Checks that the settings ``names`` are positive ints."""
    for name in names:
        check_positive_int(getattr(config, name), name, f"the {model!r} model")


def check_int_ks(config: Any, model: str) -> None:
    """Checks that the neighbour counts ``ks`` and ``default_k`` are ints (after :func:`check_positive`)."""
    if any(isinstance(k, bool) or not isinstance(k, int) for k in (*config.ks, config.default_k)):
        raise ConfigError(f"The 'ks' of the {model!r} model must be ints. Got {config.ks!r} instead.")


# ---------------------------------------------------------------------- preprocessing
def statistic_rows(train: TrainView, node_type: NodeType) -> Tensor:
    """The rows preprocessing statistics come from: the training rows (all rows if none)."""
    rows = train.train_rows[node_type].long()
    return rows if rows.numel() else torch.arange(train.num_nodes(node_type))


def standardizers(train: TrainView, node_types: Iterable[NodeType]) -> dict[NodeType, Standardize]:
    """A :class:`~mmgraph.models.standardize.Standardize` per node type, with the statistics of its
    training rows (:func:`statistic_rows`)."""
    out = {}
    for t in node_types:
        x = train.features[t]
        out[t] = Standardize(x.shape[1]).fit(x[statistic_rows(train, t)])
    return out


def standardizer_tensors(standardize: Mapping[NodeType, Standardize], edge_type: EdgeType) -> dict[str, Tensor]:
    """The statistics of both ends' standardizers, as tensors to save (``standardize.src.mean``, ...)."""
    src, _, dst = edge_type
    return {
        f"standardize.{side}.{key}": value
        for side, t in (("src", src), ("dst", dst)) for key, value in standardize[t].state_dict().items()
    }


def saved_standardizers(tensors: Mapping[str, Tensor], edge_type: EdgeType) -> dict[NodeType, Standardize]:
    """Both ends' standardizers back from :func:`standardizer_tensors`."""
    src, _, dst = edge_type
    out = {}
    for side, t in (("src", src), ("dst", dst)):
        statistics = {key: tensors[f"standardize.{side}.{key}"] for key in ("mean", "std")}
        out[t] = Standardize(statistics["mean"].numel())
        out[t].load_state_dict(statistics)
    return out


def unit(x: Tensor, center: Tensor | None = None) -> Tensor:
    """Rows scaled to unit length, after subtracting ``center`` when given."""
    x = x.float()
    if center is not None:
        x = x - center
    return F.normalize(x, dim=1)


def row_mean(x: Tensor, rows: Tensor) -> Tensor:
    """The mean of ``x[rows]`` (a centre computed from training rows)."""
    return x.float()[rows].mean(0)


def topk_similar(queries: Tensor, keys: Tensor, k: int, chunk: int = 4096) -> tuple[Tensor, Tensor]:
    """The ``k`` most cosine-similar keys of every query (rows already unit length).

    Shapes:
        queries: ``(n, d)``, keys: ``(m, d)``, returns values and indices ``(n, min(k, m))``.
    """
    k = min(k, keys.shape[0])
    values, indices = [torch.zeros(0, k)], [torch.zeros(0, k, dtype=torch.long)]
    for start in range(0, queries.shape[0], chunk):
        top = (queries[start : start + chunk] @ keys.T).topk(k, dim=1)
        values.append(top.values)
        indices.append(top.indices)
    return torch.cat(values), torch.cat(indices)


def extended(view: Tensor, new: Mapping[NodeType, Tensor] | None, node_type: NodeType) -> Tensor:
    """The view's features of ``node_type`` followed by the new samples' (none if ``new`` lacks it).

    Shapes:
        view: ``(n, dim)``; return: ``(n + m, dim)``.
    """
    rows = None if new is None else new.get(node_type)
    if rows is None or len(rows) == 0:
        return view.float()
    rows = torch.as_tensor(rows, dtype=torch.float32)
    if rows.ndim != 2 or rows.shape[1] != view.shape[1]:
        raise DataError(
            f"New {node_type!r} samples must have {view.shape[1]}-d features, as the training view's. "
            f"Got shape {tuple(rows.shape)} instead."
        )
    return torch.cat([view.float(), rows])


# ---------------------------------------------------------------------- the bases
class LinkScorer:
    """The :class:`~mmgraph.models.base.Scorer` of a link baseline: scores of one link type."""

    def __init__(self, name: str, edge_type: EdgeType, score: ScoreFn) -> None:
        self.name, self.edge_type, self._score = name, tuple(edge_type), score

    def __repr__(self) -> str:
        return f"LinkScorer(model={self.name!r}, edge_type={self.edge_type})"

    def link_scores(self, edge_type: EdgeType, query: Tensor, candidates: Tensor, *, reverse: bool) -> Tensor:
        """Scores of every query against every candidate; higher means more likely linked.

        Shapes:
            query: ``(b,)`` source nodes (targets if ``reverse``), candidates: ``(c,)``,
            returns ``(b, c)``.
        """
        if tuple(edge_type) != self.edge_type:
            raise DataError(
                f"This {self.name!r} model was fitted for {self.edge_type} links. Got {tuple(edge_type)} instead."
            )
        with torch.no_grad():
            return self._score(torch.as_tensor(query).long(), torch.as_tensor(candidates).long(), reverse)

    def predict_labels(self, node_type: NodeType) -> Tensor:
        raise NotApplicableError(f"The {self.name!r} model ranks cross-modal links; it does not predict labels.")


@dataclass
class LinkBaselineConfig:
    """The setting every link baseline has; each one's ``Config`` derives from this."""

    # Try the hubness correction (CSLS, :class:`~mmgraph.models.terms.HubnessCorrected`) on
    # validation, per direction, with the weights HUBNESS_WEIGHTS (0 among them: none), as the
    # gnn does for its own scores; False: never correct.
    hubness: bool = True


class LinkBaseline(RelationModel):
    """A link baseline: fits on the training links of the task's target type, scores
    (queries x candidates) of the view's nodes and new samples.

    Subclasses implement :meth:`_fit_links` and :meth:`_score_fn` (or override
    :meth:`_uncorrected_scorer`). ``features_`` holds the view's features of both ends of the
    target type (training-view rows only). A setting tried on validation is scored through its
    own scoring (:meth:`_choose_per_direction`); the model's attributes are set once, with the
    choice. Once fitted, the hubness correction's weight of each direction is chosen on
    validation (``hubness_``, also in ``chosen_["hubness"]``; 0 unless it helps there), so every
    link baseline may use the correction the gnn uses.
    """

    kinds = ("link",)

    def _fit(
        self, train: TrainView, *, validate: Validate | None, progress: bool, checkpoint: Checkpoint | None
    ) -> None:
        edge_type = train.target_edge_type
        links = train.target_links()
        if links.shape[1] == 0:
            raise DataError(
                f"The task {train.task!r} has no training links of type {edge_type}; "
                f"the {self.name!r} model learns from them."
            )
        self.edge_type_ = edge_type
        src, _, dst = edge_type
        self.features_ = {t: train.features[t].float() for t in (src, dst)}
        self._fit_links(train, links.long(), validate=validate, progress=progress, checkpoint=checkpoint)
        self._set_hub_queries(train)
        self.hubness_ = {False: 0.0, True: 0.0}
        if self.settings.hubness and validate is not None:
            self.hubness_, scores = self._choose_per_direction(
                HUBNESS_WEIGHTS, 0.0, lambda weights: lambda new: self._corrected(new, weights),
                validate=validate, progress=progress,
            )
            self.chosen_["hubness"] = per_direction_record(lambda reverse: {"weight": self.hubness_[reverse]}, scores)

    def _set_hub_queries(self, train: TrainView) -> None:
        """Keeps what the hubness correction reads: the training queries of both ends (hub
        scores are computed over them, once per fitted model, in ``_hubs``)."""
        self.train_rows_ = {t: train.train_rows[t].long() for t in self.features_}
        self._hubs: dict[tuple[EdgeType, bool], Tensor] = {}

    @abstractmethod
    def _fit_links(
        self, train: TrainView, links: Tensor, *, validate: Validate | None, progress: bool,
        checkpoint: Checkpoint | None,
    ) -> None:
        """Learns from the training ``links``; ``checkpoint`` is for the models with a training loop."""

    def scorer(self, new: Mapping[NodeType, Tensor] | None = None) -> Scorer:
        """A scorer of the fitted link type over the view's nodes followed by the ``new`` samples,
        corrected for hubness with the weights chosen on validation."""
        self._check_fitted()
        return self._corrected(new, self.hubness_)

    def _uncorrected_scorer(self, new: Mapping[NodeType, Tensor] | None) -> Scorer:
        """The fitted model's own scorer, before any hubness correction."""
        return self._scoring(self._score_fn)(new)

    def _corrected(self, new: Mapping[NodeType, Tensor] | None, weights: Mapping[bool, float]) -> Scorer:
        """The model's scorer corrected for hubness with ``weights[reverse]`` in each direction
        (none where the weight is 0). A candidate's hub score reads the training queries and
        that candidate only, so each new sample is still scored on its own."""
        base = self._uncorrected_scorer(new)
        if not any(weights.values()):
            return base
        num_view = {t: len(x) for t, x in self.features_.items()}
        num_new = {t: len(new[t]) for t in num_view if new is not None and new.get(t) is not None}
        corrected = {
            reverse: base if not weight else HubnessCorrected(
                base, weight, train_rows=self.train_rows_, num_view=num_view, num_new=num_new, hubs=self._hubs
            )
            for reverse, weight in weights.items()
        }
        return PerDirection(corrected[False], corrected[True])

    @classmethod
    def from_state(cls, tensors: dict[str, Tensor], record: Mapping[str, Any], train: TrainView) -> RelationModel:
        """As :meth:`RelationModel.from_state`, with the hubness weights of ``chosen`` (none in a
        record without them)."""
        model = cast("LinkBaseline", super().from_state(tensors, record, train))
        model._set_hub_queries(train)
        chosen = (record.get("chosen") or {}).get("hubness") or {}
        model.hubness_ = {
            r: float(chosen.get(d, {}).get("weight", 0.0)) for r, d in zip((False, True), DIRECTIONS, strict=True)
        }
        return model

    def _scoring(self, score_fn: Callable[[dict[NodeType, Tensor]], ScoreFn]) -> Scoring:
        """The scoring by ``score_fn`` (the fitted one, or a candidate setting's during ``fit``)."""

        def scoring(new: Mapping[NodeType, Tensor] | None) -> LinkScorer:
            x = {t: extended(v, new, t) for t, v in self.features_.items()}
            return LinkScorer(self.name, self.edge_type_, score_fn(x))

        return scoring

    def _score_fn(self, x: dict[NodeType, Tensor]) -> ScoreFn:
        """The score function over ``x`` (view rows then new rows, raw features of both ends)."""
        raise NotImplementedError(f"{type(self).__name__} implements _score_fn or overrides scorer.")

    def _choose_per_direction(
        self, grid: Sequence[S], default: S, scoring: Callable[[dict[bool, S]], Scoring], *,
        validate: Validate | None, progress: bool,
    ) -> tuple[dict[bool, S], dict[str, float | None] | None]:
        """The setting of each direction (``reverse``) with the best validation MRR of that
        direction, each setting of ``grid`` scored both ways through ``scoring({False: s, True: s})``
        (see :meth:`_scoring`).

        Returns:
            The setting per direction and each direction's validation MRR (``None`` if
            validation asked nothing: then both directions take ``default``).
        """
        best = {}
        if validate is not None:
            keys = tuple(f"{d}/mrr" for d in DIRECTIONS)
            best = choose(
                grid, lambda s: scoring({False: s, True: s}), validate, keys=keys, desc=self.name, progress=progress
            )
        chosen = per_direction(best, default)
        setting = {reverse: chosen[direction][0] for reverse, direction in zip((False, True), DIRECTIONS, strict=True)}
        scores = {direction: chosen[direction][1] for direction in DIRECTIONS} if best else None
        return setting, scores


def per_direction_record(
    describe: Callable[[bool], dict[str, Any]], scores: Mapping[str, float | None] | None
) -> dict[str, dict[str, Any]]:
    """The ``chosen_`` record of a choice made per direction: ``describe(reverse)`` under each
    direction's name, with that direction's validation MRR (``"val_mrr"``) where validation asked.

    Example:
        >>> per_direction_record(lambda reverse: {"k": 5 if reverse else 1}, {"src->dst": 0.5, "dst->src": 0.25})
        {'src->dst': {'k': 1, 'val_mrr': 0.5}, 'dst->src': {'k': 5, 'val_mrr': 0.25}}
    """
    out = {}
    for reverse, direction in zip((False, True), DIRECTIONS, strict=True):
        out[direction] = describe(reverse)
        if scores is not None:
            out[direction]["val_mrr"] = scores[direction]
    return out


def embedding_scores(embedded: dict[bool, tuple[Tensor, Tensor]]) -> ScoreFn:
    """Scores as dot products of ``{reverse: (query embeddings, candidate embeddings)}``."""

    def score(query: Tensor, candidates: Tensor, reverse: bool) -> Tensor:
        q, c = embedded[reverse]
        return q[query] @ c[candidates].T

    return score


class EmbeddingLinkBaseline(LinkBaseline):
    """Scores are dot products of unit vectors of the query side and the candidate side."""

    @abstractmethod
    def _embed(self, x: dict[NodeType, Tensor]) -> dict[bool, tuple[Tensor, Tensor]]:
        """``{reverse: (query embeddings, candidate embeddings)}`` of every row of ``x``, row by row."""

    def _score_fn(self, x: dict[NodeType, Tensor]) -> ScoreFn:
        with torch.no_grad():
            return embedding_scores(self._embed(x))


def per_direction(best: Mapping[str, Any], default: Any) -> dict[str, Any]:
    """The choice of each direction from a ``grid_search`` over ``"<direction>/mrr"``: a direction
    without validation questions takes the other direction's choice, else ``default``.

    Returns:
        ``{direction: (setting, score or None)}``.
    """
    out = {}
    for direction, other in (DIRECTIONS, DIRECTIONS[::-1]):
        choice = best.get(f"{direction}/mrr")
        if choice is not None:
            out[direction] = (choice.setting, choice.score)
        elif f"{other}/mrr" in best:
            out[direction] = (best[f"{other}/mrr"].setting, None)
        else:
            out[direction] = (default, None)
    return out


class LabelScorer:
    """The :class:`~mmgraph.models.base.Scorer` of a label baseline: a class per node."""

    def __init__(self, name: str, predict: Mapping[NodeType, Callable[[], Tensor]]) -> None:
        self.name, self._predict = name, dict(predict)

    def __repr__(self) -> str:
        return f"LabelScorer(model={self.name!r}, node_types={sorted(self._predict)})"

    def predict_labels(self, node_type: NodeType) -> Tensor:
        """Class indices of every node of ``node_type`` (view nodes, then new ones), ``(num_nodes,)``."""
        if node_type not in self._predict:
            raise DataError(
                f"This {self.name!r} model has labels for {sorted(self._predict)}. Got {node_type!r} instead."
            )
        with torch.no_grad():
            return self._predict[node_type]()

    def link_scores(self, edge_type: EdgeType, query: Tensor, candidates: Tensor, *, reverse: bool) -> Tensor:
        raise NotApplicableError(f"The {self.name!r} model predicts node labels; it does not score links.")


class LabelBaseline(RelationModel):
    """A label baseline: one prediction per node of the node types it could learn.

    Subclasses implement :meth:`_fit_labels` (which calls :meth:`_select`, then puts the chosen
    setting in place) and :meth:`_predictor`. ``features_`` holds the view's features of the
    learnable node types (training-view rows only).
    """

    kinds = ("label",)

    def _fit(
        self, train: TrainView, *, validate: Validate | None, progress: bool, checkpoint: Checkpoint | None
    ) -> None:
        self.num_classes_ = len(train.classes)
        sources = self._learnable(train)
        self.features_ = {t: train.features[t].float() for t in sources}
        self._fit_labels(train, sources, validate=validate, progress=progress)
        self.chosen_["labels_from"] = {t: s[2] for t, s in sources.items()}

    @abstractmethod
    def _fit_labels(
        self, train: TrainView, sources: dict[NodeType, tuple[Tensor, Tensor, str]], *,
        validate: Validate | None, progress: bool,
    ) -> None: ...

    @abstractmethod
    def _predictor(self, node_type: NodeType, x: Tensor) -> Callable[[], Tensor]:
        """A function predicting the class of every row of ``x`` (view rows then new rows)."""

    def scorer(self, new: Mapping[NodeType, Tensor] | None = None) -> LabelScorer:
        """A scorer whose ``predict_labels`` covers the view's nodes followed by the ``new`` samples."""
        self._check_fitted()
        return self._scoring(self._predictor)(new)

    def _scoring(self, predictor: Callable[[NodeType, Tensor], Callable[[], Tensor]]) -> Scoring:
        """The scoring by ``predictor`` (the fitted one, or a candidate setting's during ``fit``)."""

        def scoring(new: Mapping[NodeType, Tensor] | None) -> LabelScorer:
            return LabelScorer(self.name, {t: predictor(t, extended(v, new, t)) for t, v in self.features_.items()})

        return scoring

    def _select(
        self, grid: list[S], default: S, predictor: Callable[[S], Callable[[NodeType, Tensor], Callable[[], Tensor]]],
        *, validate: Validate | None, progress: bool,
    ) -> S:
        """The setting of ``grid`` with the best validation accuracy on the task's source (each
        scored through ``predictor(setting)``), recorded in ``chosen_``; the caller puts it in place."""
        best = {}
        if validate is not None:
            best = choose(
                grid, lambda s: self._scoring(predictor(s)), validate, keys=("accuracy",), desc=self.name,
                progress=progress,
            )
        if "accuracy" not in best:
            self.chosen_ = {"setting": default}
            return default
        choice = best["accuracy"]
        self.chosen_ = {"setting": choice.setting, "val_accuracy": choice.score}
        return choice.setting

    def _learnable(self, train: TrainView) -> dict[NodeType, tuple[Tensor, Tensor, str]]:
        """Label sources of every modality that has some; the task's source must have them."""
        sources = {}
        for node_type in train.node_types:
            try:
                sources[node_type] = train.label_sources(node_type)
            except NotApplicableError:
                if node_type == train.source:
                    raise
        return sources
