"""Fusion baselines of item tasks: an item's samples of several modalities, some missing, fused.

An item task (:mod:`mmgraph.data.items`) asks about held-out items, each the set of its kept
samples of the query modalities. These baselines answer it as the multimodal-learning surveys
describe fusion, each tuned on the validation items (:class:`~mmgraph.models.base.ItemValidate`)
with a small grid, as a careful user would:

- feature-level fusion, ``items-concat`` and ``items-mlp``: an item is the concatenation of its
  per-modality features (standardised with training statistics; the mean where it has several
  samples of a modality), a missing modality as zeros plus a missing-indicator column per
  modality. Labels: logistic regression (``items-concat``, ``C`` on a grid) or an MLP
  (``items-mlp``); links (``items-concat``): a ridge map from the item's features to the target
  modality's centred features, candidates ranked by cosine (``alpha`` on a grid). The training
  items are the training samples grouped by their ``item``, each training item's samples
  dropped with the task's ``keep`` (seeded, at least one kept), so the model meets partial items.
- model-level fusion, ``items-average``, ``items-combiner`` and ``items-single``: one model per
  modality, fitted on that modality's training samples (logistic regression on its standardised
  features for labels, a ridge map into the target's space for links, the ``logreg`` and
  ``transfer`` baselines' recipes), each choosing its ``C`` / ``alpha`` on the validation items
  that have that modality. An item's class probabilities (labels) or cosine scores (links) are
  a weighted mean over the modalities it has: equal weights (``items-average``), per-modality
  weights chosen on the validation items (``items-combiner``), or one weight 1 on the modality
  that is best alone on validation (``items-single``, the best single modality; an item without
  that modality takes the mean over the modalities it has).

Every step reads one item's samples and the fitted state, never another item's: an item scores
the same alone or in a batch, and removing one of its samples changes its scores only. These
models answer item queries only (``item_only``). They save (``mmgraph run --out``) as the arrays
of their fitted heads (:func:`head_state`), so a saved run predicts new items
(:meth:`Predictor.predict_items <mmgraph.predict.Predictor.predict_items>`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from torch import Tensor

from mmgraph.data.items import kept_samples
from mmgraph.data.prepared import ITEM, ItemQueries, TrainView
from mmgraph.errors import ConfigError, DataError, NotApplicableError, SavedFileError
from mmgraph.models.base import ItemScoring, ItemValidate, RelationModel, Scorer, Validate
from mmgraph.models.baselines._common import check_positive, extended, row_mean, standardizers, statistic_rows
from mmgraph.models.baselines.transfer import _RidgeMap
from mmgraph.training.checkpoint import Checkpoint
from mmgraph.training.selection import grid_search
from mmgraph.typing import EdgeType, NodeType

COMBINER_WEIGHTS: tuple[float, ...] = (0.0, 0.5, 1.0, 2.0)
"""The weights ``items-combiner`` tries for each modality, one modality at a time, starting from
the better of equal weights and the best single modality (two passes over the modalities)."""
COMBINER_PASSES = 2


# ---------------------------------------------------------------------- items as groups of rows
@dataclass(frozen=True)
class ItemGroups:
    """Which rows form each item: ``members[m][j]`` (a row of modality ``m``) belongs to item
    ``member_items[m][j]``. Held-out items come from :class:`ItemQueries` (rows are scoring
    indices), training items from :func:`training_items` (rows are view nodes).

    Shapes:
        members, member_items: ``{modality: (k,)}``.
    """

    num_items: int
    members: dict[NodeType, Tensor]
    member_items: dict[NodeType, Tensor]

    @classmethod
    def of(cls, items: ItemQueries) -> ItemGroups:
        return cls(len(items), dict(items.members), dict(items.member_items))

    def rows(self, modality: NodeType) -> tuple[Tensor, Tensor]:
        """The rows of ``modality`` in the items and the item of each (empty where none kept it)."""
        empty = torch.zeros(0, dtype=torch.long)
        return self.members.get(modality, empty).long(), self.member_items.get(modality, empty).long()

    def means(self, modality: NodeType, x: Tensor) -> tuple[Tensor, Tensor]:
        """Each item's mean of its rows of ``x`` (zeros where it has none), and whether it has any.

        Shapes:
            x: ``(rows, dim)``; return: ``(num_items, dim)`` and ``(num_items,)`` bool.
        """
        members, owners = self.rows(modality)
        return item_means(x[members], owners, self.num_items)


def item_means(values: Tensor, owners: Tensor, num_items: int) -> tuple[Tensor, Tensor]:
    """The mean of the ``values`` of each item (zeros where it has none), and whether it has any.

    Shapes:
        values: ``(k, dim)``; owners: ``(k,)`` item indices; return: ``(num_items, dim)``, ``(num_items,)``.
    """
    sums = torch.zeros(num_items, values.shape[1]).index_add_(0, owners, values.float())
    counts = torch.zeros(num_items).index_add_(0, owners, torch.ones(len(owners)))
    return sums / counts.clamp(min=1)[:, None], counts > 0


def training_items(
    train: TrainView, modalities: Sequence[NodeType], *, keep: float, seed: int
) -> tuple[dict[str, int], ItemGroups, ItemGroups]:
    """The training items: the training samples of ``modalities`` grouped by their ``item``.

    Returns:
        ``(index, all samples, kept samples)``: each item's index by its name, and the items'
        samples before and after dropping each with probability ``1 - keep``
        (:func:`~mmgraph.data.items.kept_samples`, draws from ``seed``; an item keeps at least one).

    Raises:
        DataError: the training samples have no ``item``.
    """
    names = np.unique(np.concatenate([train.items[m][statistic_rows(train, m).numpy()] for m in modalities]))
    index = {str(name): i for i, name in enumerate(n for n in names if n)}
    if not index:
        raise DataError(
            f"The training samples of the task {train.task!r} have no 'item'; item fusion learns from training "
            "items. Give the samples an 'item' column."
        )
    every = ItemGroups(len(index), {}, {})
    for m in modalities:
        every.members[m], every.member_items[m] = training_rows_of(train, m, index)
    return index, every, dropped_samples(every, keep=keep, seed=seed)


def dropped_samples(every: ItemGroups, *, keep: float, seed: int | Sequence[int]) -> ItemGroups:
    """``every``'s items with each sample dropped with probability ``1 - keep``
    (:func:`~mmgraph.data.items.kept_samples`, draws from ``np.random.default_rng(seed)``; an item
    keeps at least one)."""
    modalities = list(every.members)
    flat = torch.cat([every.member_items[m] for m in modalities]).numpy()
    kept = torch.as_tensor(kept_samples(flat, np.random.default_rng(seed).random(len(flat)), keep))
    bounds = np.cumsum([0, *(len(every.members[m]) for m in modalities)])
    dropped = ItemGroups(every.num_items, {}, {})
    for m, start, stop in zip(modalities, bounds[:-1], bounds[1:], strict=True):
        dropped.members[m] = every.members[m][kept[start:stop]]
        dropped.member_items[m] = every.member_items[m][kept[start:stop]]
    return dropped


def training_rows_of(train: TrainView, modality: NodeType, index: Mapping[str, int]) -> tuple[Tensor, Tensor]:
    """The training rows of ``modality`` whose item is in ``index``, and the index of their item.

    Shapes:
        return: ``(k,)`` view nodes and ``(k,)`` item indices.
    """
    rows = statistic_rows(train, modality).numpy()
    names = train.items[modality][rows]
    mask = np.array([name in index for name in names], dtype=bool)
    owners = torch.tensor([index[name] for name in names[mask]], dtype=torch.long)
    return torch.as_tensor(rows[mask]).long(), owners


# ---------------------------------------------------------------------- the scorer
class ItemScorer:
    """The :class:`~mmgraph.models.base.Scorer` of an item fusion baseline: item embeddings dotted
    with candidate embeddings (link tasks), or a class per item (label tasks)."""

    def __init__(
        self, name: str, *, edge_type: EdgeType | None = None, items: Tensor | None = None,
        candidates: Tensor | None = None, labels: Tensor | None = None,
    ) -> None:
        self.name, self.edge_type = name, edge_type
        self._items, self._candidates, self._labels = items, candidates, labels

    def __repr__(self) -> str:
        return f"ItemScorer(model={self.name!r}, edge_type={self.edge_type})"

    def link_scores(self, edge_type: EdgeType, query: Tensor, candidates: Tensor, *, reverse: bool) -> Tensor:
        """Scores of items against candidates of the target modality.

        Shapes:
            query: ``(b,)`` item indices; candidates: ``(c,)`` scoring indices; return: ``(b, c)``.
        """
        if self.edge_type is None:
            raise NotApplicableError(f"This {self.name!r} model predicts item labels; it does not score links.")
        if tuple(edge_type) != self.edge_type or reverse:
            raise DataError(
                f"This {self.name!r} model scores {self.edge_type} links from items (reverse=False). "
                f"Got {tuple(edge_type)}, reverse={reverse} instead."
            )
        return self._items[torch.as_tensor(query).long()] @ self._candidates[torch.as_tensor(candidates).long()].T

    def predict_labels(self, node_type: NodeType) -> Tensor:
        """The class of every item, ``(num_items,)``."""
        if self._labels is None:
            raise NotApplicableError(f"This {self.name!r} model ranks links of items; it does not predict labels.")
        if node_type != ITEM:
            raise DataError(f"This {self.name!r} model labels items ({ITEM!r}). Got {node_type!r} instead.")
        return self._labels


# ---------------------------------------------------------------------- the shared base
class ItemFusionBaseline(RelationModel):
    """What the item fusion baselines share: the query and target modalities, training-row
    statistics, the training items, choices on validation items and the item scorer.

    Subclasses implement :meth:`_fit_items`, which sets ``fused_`` (what :meth:`_outputs` reads:
    the fitted classifier or map, the per-modality models and their weights), and :meth:`_outputs`
    (each item's class probabilities, or its embedding in the target's centred space).
    """

    kinds = ("label", "link")
    item_only = True

    def _fit(
        self, train: TrainView, *, validate: Validate | None, progress: bool, checkpoint: Checkpoint | None
    ) -> None:
        self._prepare(train)
        self.chosen_: dict[str, Any] = {}
        self._fit_items(train, validate.items if isinstance(validate, ItemValidate) else None, progress=progress)

    def _prepare(self, train: TrainView) -> None:
        """What the model reads of ``train`` before fitting (and again on loading): the target,
        the query modalities, their features and training-row statistics."""
        if train.kind == "link":
            src, relation, dst = train.target_edge_type
            self.target_ = dst if src == train.source else src
            self.edge_type_ = (ITEM, relation, self.target_)
            self.center_ = row_mean(train.features[self.target_], statistic_rows(train, self.target_))
        else:
            self.target_, self.edge_type_ = None, None
        self.kind_ = train.kind
        self.num_classes_ = len(train.classes)
        self.modalities_ = [m for m in train.node_types if m != self.target_]
        self.features_ = {m: train.features[m].float() for m in train.node_types}
        self.standardize_ = standardizers(train, self.modalities_)

    def _state(self) -> tuple[dict[str, Tensor], dict[str, Any]]:
        """The fitted heads as tensors (:func:`head_state`); the statistics are the training view's,
        computed again on loading."""
        tensors: dict[str, Tensor] = {}
        return tensors, self._fused_state(self.fused_, tensors)

    def _restore(self, tensors: dict[str, Tensor], state: dict[str, Any], train: TrainView) -> None:
        self._prepare(train)
        self.fused_ = self._fused_from_state(state, tensors)

    def _fused_state(self, fused: Any, tensors: dict[str, Tensor]) -> dict[str, Any]:
        """``fused_`` as a JSON record, its arrays put into ``tensors``."""
        raise NotImplementedError

    def _fused_from_state(self, state: dict[str, Any], tensors: dict[str, Tensor]) -> Any:
        """``fused_`` back from :meth:`_fused_state`."""
        raise NotImplementedError

    def _fit_items(self, train: TrainView, validate: Callable[[ItemScoring], dict[str, float]] | None, *,
                   progress: bool) -> None:
        raise NotImplementedError

    def _outputs(self, x: dict[NodeType, Tensor], groups: ItemGroups, fused: Any) -> Tensor:
        """Per item: class probabilities ``(num_items, num_classes)`` (label tasks) or an embedding
        in the target's centred feature space ``(num_items, dim)`` (link tasks), by ``fused``."""
        raise NotImplementedError

    def scorer(self, new: Mapping[NodeType, Tensor] | None = None) -> Scorer:
        raise NotApplicableError(
            f"The {self.name!r} model answers item queries (item_scorer); it does not score single samples."
        )

    def item_scorer(self, new: Mapping[NodeType, Tensor] | None, items: ItemQueries) -> ItemScorer:
        """The scorer of ``items`` (see :meth:`RelationModel.item_scorer`)."""
        self._check_fitted()
        return self._item_scoring(self.fused_)(new, items)

    def _item_scoring(self, fused: Any) -> ItemScoring:
        """The item scoring by ``fused`` (the fitted state, or a candidate setting's during ``fit``)."""

        def scoring(new: Mapping[NodeType, Tensor] | None, items: ItemQueries) -> ItemScorer:
            x = {m: extended(self.features_[m], new, m) for m in self.modalities_}
            with torch.no_grad():
                out = self._outputs(x, ItemGroups.of(items), fused)
                if self.kind_ == "label":
                    return ItemScorer(self.name, labels=out.argmax(1))
                target = extended(self.features_[self.target_], new, self.target_)
                candidates = F.normalize(target - self.center_, dim=1)
                return ItemScorer(self.name, edge_type=self.edge_type_, items=F.normalize(out, dim=1),
                                  candidates=candidates)

        return scoring

    def _select(
        self, grid: Sequence[Any], default: Any, validate: Callable[[ItemScoring], dict[str, float]] | None,
        scoring: Callable[[Any], ItemScoring], *, progress: bool = False,
    ) -> tuple[Any, float | None]:
        """The setting of ``grid`` with the best validation score of the items (MRR or accuracy),
        each scored through ``scoring(setting)``; ``default`` without validation items. Ties go to
        the earlier setting."""
        key = "mrr" if self.kind_ == "link" else "accuracy"
        if validate is None:
            return default, None
        best = grid_search(grid, lambda s: validate(scoring(s)), keys=(key,), desc=self.name, progress=progress)
        if key not in best:
            return default, None
        return best[key].setting, best[key].score

    def _item_labels(self, train: TrainView, every: ItemGroups) -> Tensor:
        """Each training item's label: the majority of its samples' training labels (``-1``: none)."""
        votes = torch.zeros(every.num_items, max(self.num_classes_, 1))
        for m in self.modalities_:
            labels = train.labels.get(m)
            if labels is None:
                continue
            members, owners = every.members[m], every.member_items[m]
            y = labels[members]
            votes.index_put_((owners[y >= 0], y[y >= 0]), torch.ones(int((y >= 0).sum())), accumulate=True)
        return torch.where(votes.sum(1) > 0, votes.argmax(1), -1)


def class_probabilities(model: LogisticRegression | MLPClassifier | SavedClassifier | int, x: np.ndarray,
                        num_classes: int) -> Tensor:
    """A classifier's probabilities over every class (a class it never saw gets 0; an ``int`` is a
    classifier of one class).

    Shapes:
        x: ``(n, dim)``; return: ``(n, num_classes)``.
    """
    out = torch.zeros(len(x), num_classes)
    if isinstance(model, int):
        out[:, model] = 1.0
    elif len(x):
        out[:, torch.as_tensor(model.classes_)] = torch.as_tensor(model.predict_proba(x), dtype=torch.float32)
    return out


def fit_classifier(make: Callable[[], LogisticRegression | MLPClassifier], x: np.ndarray,
                   y: np.ndarray) -> LogisticRegression | MLPClassifier | int:
    """``make()`` fitted on ``(x, y)``, or the one class of ``y`` when it has one."""
    if len(np.unique(y)) == 1:
        return int(y[0])
    return make().fit(x, y)


class SavedClassifier:
    """A fitted logistic regression or MLP of scikit-learn as its arrays: ReLU hidden layers, then
    a softmax (several classes) or logistic (two classes) output; ``predict_proba`` gives what
    the scikit-learn model gives.

    Shapes:
        layers: ``[(weight (out, in), bias (out,)), ...]``; classes: ``(num_classes,)``.
    """

    def __init__(self, layers: list[tuple[np.ndarray, np.ndarray]], classes: np.ndarray) -> None:
        self.layers, self.classes_ = layers, classes

    @classmethod
    def of(cls, model: LogisticRegression | MLPClassifier) -> SavedClassifier:
        if isinstance(model, LogisticRegression):
            return cls([(model.coef_, model.intercept_)], model.classes_)
        if model.activation != "relu":
            raise NotApplicableError(f"A saved MLP has ReLU hidden layers; this one has {model.activation!r}.")
        return cls([(w.T, b) for w, b in zip(model.coefs_, model.intercepts_, strict=True)], model.classes_)

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Shapes: x: ``(n, dim)``; return: ``(n, len(classes_))``."""
        h = np.asarray(x, dtype=np.float64)
        for position, (weight, bias) in enumerate(self.layers):
            h = h @ weight.T + bias
            if position < len(self.layers) - 1:
                h = np.maximum(h, 0.0)
        if h.shape[1] == 1:  # two classes: the logistic of the second
            p = 1.0 / (1.0 + np.exp(-h[:, 0]))
            return np.stack([1.0 - p, p], axis=1)
        h = np.exp(h - h.max(1, keepdims=True))
        return h / h.sum(1, keepdims=True)


def head_state(head: LogisticRegression | MLPClassifier | SavedClassifier | _RidgeMap | int, key: str,
               tensors: dict[str, Tensor]) -> dict[str, Any]:
    """A fitted head (a classifier, a one-class classifier's class, a ridge map) as a JSON record,
    its arrays put into ``tensors`` under ``key``."""
    if isinstance(head, int):
        return {"kind": "class", "class": head}
    if isinstance(head, _RidgeMap):
        tensors[f"{key}.weight"], tensors[f"{key}.bias"] = head.weight, head.bias
        return {"kind": "ridge"}
    saved = head if isinstance(head, SavedClassifier) else SavedClassifier.of(head)
    for position, (weight, bias) in enumerate(saved.layers):
        tensors[f"{key}.{position}.weight"] = torch.as_tensor(np.asarray(weight, dtype=np.float64))
        tensors[f"{key}.{position}.bias"] = torch.as_tensor(np.asarray(bias, dtype=np.float64))
    tensors[f"{key}.classes"] = torch.as_tensor(np.asarray(saved.classes_, dtype=np.int64))
    return {"kind": "classifier", "layers": len(saved.layers)}


def head_from_state(record: Mapping[str, Any], key: str,
                    tensors: Mapping[str, Tensor]) -> SavedClassifier | _RidgeMap | int:
    """A head back from :func:`head_state`."""
    if record["kind"] == "class":
        return int(record["class"])
    if record["kind"] == "ridge":
        return _RidgeMap.from_weights(tensors[f"{key}.weight"], tensors[f"{key}.bias"])
    if record["kind"] != "classifier":
        raise SavedFileError(
            f"A saved item model holds a head of unknown kind {record['kind']!r} (known: 'class', 'ridge', "
            "'classifier'); the model folder is damaged or was written by another mmgraph. Run the task again."
        )
    layers = [
        (tensors[f"{key}.{i}.weight"].numpy(), tensors[f"{key}.{i}.bias"].numpy()) for i in range(record["layers"])
    ]
    return SavedClassifier(layers, tensors[f"{key}.classes"].numpy())


# ---------------------------------------------------------------------- feature-level fusion
@dataclass
class ItemsConcatConfig:
    """Settings of :class:`ItemsConcatBaseline`."""

    cs: tuple[float, ...] = (0.01, 0.1, 1.0, 10.0)  # logistic regression's inverse penalties (labels)
    alphas: tuple[float, ...] = (1.0, 10.0, 100.0, 1e3, 1e4)  # ridge penalties (links)
    default_c: float = 1.0  # used without validation items
    default_alpha: float = 100.0
    max_iter: int = 1000
    seed: int = 0


class ItemsConcatBaseline(ItemFusionBaseline):
    """Feature-level fusion: the concatenated per-modality features with missing indicators, and
    logistic regression (labels) or a ridge map into the target's space (links)."""

    name = "items-concat"
    Config = ItemsConcatConfig

    def _validate_settings(self) -> None:
        check_positive(self.settings, self.name, ("cs", "alphas", "default_c", "default_alpha", "max_iter"))

    def _concatenated(self, x: dict[NodeType, Tensor], groups: ItemGroups) -> Tensor:
        """Each item's standardised per-modality means (zeros where missing), then one column per
        modality that is 1 where the item has none of it.

        Shapes:
            return: ``(num_items, sum of dims + num_modalities)``.
        """
        blocks, missing = [], []
        for m in self.modalities_:
            mean, present = groups.means(m, x[m])  # standardising is affine: the mean of standardised rows
            blocks.append(torch.where(present[:, None], self.standardize_[m](mean), 0.0))
            missing.append((~present).float()[:, None])
        return torch.cat([*blocks, *missing], dim=1)

    def _fit_items(self, train: TrainView, validate: Callable[[ItemScoring], dict[str, float]] | None, *,
                   progress: bool) -> None:
        c = self.settings
        index, every, kept = training_items(train, self.modalities_, keep=train.keep, seed=c.seed)
        x = self._concatenated(self.features_, kept)
        if self.kind_ == "label":
            y = self._item_labels(train, every)
            x, y = x[y >= 0].numpy(), y[y >= 0].numpy()
            head = fit_once_per_setting(lambda setting: fit_classifier(lambda: self._classifier(setting), x, y))
            grid, default = self._label_grid(), self._label_default()
        else:
            rows, owners = training_rows_of(train, self.target_, index)
            target, present = item_means(self.features_[self.target_][rows] - self.center_, owners, len(index))
            x, y = x[present], target[present]
            head = fit_once_per_setting(lambda alpha: _RidgeMap(x, y, alpha))
            grid, default = list(c.alphas), c.default_alpha
        if len(x) == 0:
            raise DataError(
                f"The task {train.task!r} has no training item with a "
                f"{'label' if self.kind_ == 'label' else repr(self.target_) + ' sample'}; the {self.name!r} model "
                "learns from them."
            )
        setting, score = self._select(grid, default, validate, lambda s: self._item_scoring(head(s)), progress=progress)
        self.fused_ = head(setting)
        self.chosen_ = {"setting": setting, "val_score": score, "training_items": len(x)}

    def _classifier(self, setting: Any) -> LogisticRegression | MLPClassifier:
        return LogisticRegression(C=setting, max_iter=self.settings.max_iter, random_state=self.settings.seed)

    def _label_grid(self) -> list[Any]:
        return list(self.settings.cs)

    def _label_default(self) -> Any:
        return self.settings.default_c

    def _fused_state(self, fused: Any, tensors: dict[str, Tensor]) -> dict[str, Any]:
        return {"head": head_state(fused, "head", tensors)}

    def _fused_from_state(self, state: dict[str, Any], tensors: dict[str, Tensor]) -> Any:
        return head_from_state(state["head"], "head", tensors)

    def _outputs(self, x: dict[NodeType, Tensor], groups: ItemGroups, fused: Any) -> Tensor:
        features = self._concatenated(x, groups)
        if self.kind_ == "label":
            return class_probabilities(fused, features.numpy(), self.num_classes_)
        return fused(features)


@dataclass
class ItemsMLPConfig:
    """Settings of :class:`ItemsMLPBaseline`: the grid is ``hidden x alphas``."""

    hidden: tuple[int, ...] = (256,)  # hidden layer widths tried
    alphas: tuple[float, ...] = (1e-4, 1e-2, 1.0)  # L2 penalties tried
    default_hidden: int = 256
    default_alpha: float = 1e-2
    max_iter: int = 300
    seed: int = 0


class ItemsMLPBaseline(ItemsConcatBaseline):
    """Feature-level fusion with an MLP (one hidden ReLU layer, Adam) on the concatenated
    per-modality features and missing indicators; labels only."""

    name = "items-mlp"
    kinds = ("label",)
    Config = ItemsMLPConfig

    def _validate_settings(self) -> None:
        check_positive(self.settings, self.name, ("hidden", "alphas", "default_hidden", "default_alpha", "max_iter"))

    def _classifier(self, setting: Any) -> MLPClassifier:
        hidden, alpha = setting
        return MLPClassifier(
            hidden_layer_sizes=(hidden,), alpha=alpha, max_iter=self.settings.max_iter,
            random_state=self.settings.seed,
        )

    def _label_grid(self) -> list[Any]:
        return [(h, a) for h in self.settings.hidden for a in self.settings.alphas]

    def _label_default(self) -> Any:
        return (self.settings.default_hidden, self.settings.default_alpha)


# ---------------------------------------------------------------------- model-level fusion
COMBINE_MODES: tuple[str, ...] = ("average", "learned", "single")
"""How the model-level fusion weighs the modalities an item has: equally, with per-modality
weights chosen on validation items, or one weight 1 on the best single modality."""


@dataclass
class ItemsLateConfig:
    """Settings of the model-level item fusion baselines (``items-average``, ``items-combiner``,
    ``items-single``); each modality's model chooses its own ``C`` / ``alpha``."""

    cs: tuple[float, ...] = (0.01, 0.1, 1.0, 10.0)  # per-modality logistic regression (labels)
    alphas: tuple[float, ...] = (1.0, 10.0, 100.0, 1e3, 1e4)  # per-modality ridge maps (links)
    default_c: float = 1.0
    default_alpha: float = 100.0
    max_iter: int = 1000
    seed: int = 0


class ItemsAverageBaseline(ItemFusionBaseline):
    """Model-level fusion: one model per modality, their outputs averaged over the modalities an
    item has (``combine`` says with which weights, see :data:`COMBINE_MODES`)."""

    name = "items-average"
    combine = "average"
    Config = ItemsLateConfig

    def _validate_settings(self) -> None:
        check_positive(self.settings, self.name, ("cs", "alphas", "default_c", "default_alpha", "max_iter"))
        if self.combine not in COMBINE_MODES:
            raise ConfigError(f"The combine mode of {self.name!r} must be one of {COMBINE_MODES}. "
                              f"Got {self.combine!r} instead.")

    def _fit_items(self, train: TrainView, validate: Callable[[ItemScoring], dict[str, float]] | None, *,
                   progress: bool) -> None:
        c = self.settings
        fits = self._modality_fits(train)
        self.modality_models_: dict[NodeType, Any] = {}
        chosen = {}
        grid, default = (list(c.cs), c.default_c) if self.kind_ == "label" else (list(c.alphas), c.default_alpha)
        for m, fit in fits.items():  # each modality's setting on the validation items that have it
            setting, score = self._select(
                grid, default, validate, lambda s, m=m, fit=fit: self._item_scoring(((1.0,), {m: fit(s)})),
                progress=progress,
            )
            self.modality_models_[m] = fit(setting)
            chosen[m] = {"setting": setting, "val_score": score}
        weights, score = self._weights(validate, progress=progress)
        self.fused_ = (weights, self.modality_models_)
        self.chosen_ = {"modalities": chosen, "weights": dict(zip(self.modality_models_, weights, strict=True)),
                        "val_score": score}

    def _weights(self, validate: Callable[[ItemScoring], dict[str, float]] | None, *,
                 progress: bool) -> tuple[tuple[float, ...], float | None]:
        """The modalities' weights: equal (``average``), or chosen on the validation items."""
        models = self.modality_models_
        equal = tuple(1.0 for _ in models)
        if self.combine == "average":
            return equal, None

        def scoring(weights: tuple[float, ...]) -> ItemScoring:
            return self._item_scoring((weights, models))

        singles = [tuple(float(m == one) for m in models) for one in models]
        if self.combine == "single":
            return self._select(singles, singles[0], validate, scoring, progress=progress)
        weights, score = self._select([equal, *singles], equal, validate, scoring, progress=progress)
        for _ in range(COMBINER_PASSES):  # one modality at a time, the current weights first (kept on ties)
            for position in range(len(weights)):
                changed = [weights[:position] + (w,) + weights[position + 1 :] for w in COMBINER_WEIGHTS]
                grid = [weights, *(w for w in changed if w != weights and any(w))]
                weights, score = self._select(grid, weights, validate, scoring)
        return weights, score

    def _modality_fits(self, train: TrainView) -> dict[NodeType, Callable[[float], Any]]:
        """Per query modality with training data, a function fitting its model at one setting."""
        c = self.settings
        fits = {}
        for m in self.modalities_:
            x = self.standardize_[m](self.features_[m])
            if self.kind_ == "label":
                try:
                    nodes, labels, _ = train.label_sources(m)
                except NotApplicableError:
                    continue
                xm, ym = x[nodes].numpy(), labels.numpy()
                fits[m] = fit_once_per_setting(lambda C, xm=xm, ym=ym: fit_classifier(
                    lambda: LogisticRegression(C=C, max_iter=c.max_iter, random_state=c.seed), xm, ym))
            else:
                pairs = _same_item_pairs(train, m, self.target_)
                if pairs.shape[1] == 0:
                    continue
                target = self.features_[self.target_] - self.center_
                xm, ym = x[pairs[0]], target[pairs[1]]
                fits[m] = fit_once_per_setting(lambda alpha, xm=xm, ym=ym: _RidgeMap(xm, ym, alpha))
        if not fits:
            raise DataError(f"No query modality of the task {train.task!r} has training data for the {self.name!r} "
                            "model (labels, or samples sharing an item with a target sample).")
        return fits

    def _fused_state(self, fused: Any, tensors: dict[str, Tensor]) -> dict[str, Any]:
        weights, models = fused
        heads = {m: head_state(head, f"model.{m}", tensors) for m, head in models.items()}
        return {"weights": list(weights), "models": heads}

    def _fused_from_state(self, state: dict[str, Any], tensors: dict[str, Tensor]) -> Any:
        self.modality_models_ = {m: head_from_state(r, f"model.{m}", tensors) for m, r in state["models"].items()}
        return tuple(float(w) for w in state["weights"]), self.modality_models_

    def _outputs(self, x: dict[NodeType, Tensor], groups: ItemGroups, fused: Any) -> Tensor:
        """The weighted mean of the per-modality outputs over the modalities each item has; an item
        whose modalities all weigh 0 takes their plain mean."""
        weights, models = fused
        weighted, plain = 0.0, 0.0
        weight_present, count = torch.zeros(groups.num_items, 1), torch.zeros(groups.num_items, 1)
        for (m, model), weight in zip(models.items(), weights, strict=True):
            members, owners = groups.rows(m)
            rows = self.standardize_[m](x[m][members])
            if self.kind_ == "label":
                out = class_probabilities(model, rows.numpy(), self.num_classes_)
            else:  # the mean of an item's cosines with a candidate: its mean unit vector, dotted
                out = F.normalize(model(rows), dim=1)
            mean, present = item_means(out, owners, groups.num_items)
            present = present.float()[:, None]
            weighted, plain = weighted + weight * mean, plain + mean
            weight_present, count = weight_present + weight * present, count + present
        return torch.where(
            weight_present > 0, weighted / weight_present.clamp(min=1e-12), plain / count.clamp(min=1)
        )


class ItemsCombinerBaseline(ItemsAverageBaseline):
    """Model-level fusion with a learned combiner: per-modality weights chosen on validation items."""

    name = "items-combiner"
    combine = "learned"


class ItemsSingleBaseline(ItemsAverageBaseline):
    """The best single modality: the per-modality model best on the validation items alone."""

    name = "items-single"
    combine = "single"


def fit_once_per_setting(fit: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``fit`` fitting once per setting."""
    done: dict[Any, Any] = {}

    def cached(setting: Any) -> Any:
        if setting not in done:
            done[setting] = fit(setting)
        return done[setting]

    return cached


def _same_item_pairs(train: TrainView, modality: NodeType, target: NodeType) -> Tensor:
    """``[modality node, target node]`` pairs of training samples sharing an item, ``(2, n)``."""
    targets = statistic_rows(train, target).numpy()
    index = {str(name): i for i, name in enumerate(np.unique(train.items[target][targets])) if name}
    target_rows, target_items = training_rows_of(train, target, index)
    rows, owners = training_rows_of(train, modality, index)
    same = owners[:, None] == target_items[None, :]
    pick = same.nonzero()
    return torch.stack([rows[pick[:, 0]], target_rows[pick[:, 1]]])
