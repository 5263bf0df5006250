"""A task prepared for models: what ``fit`` may read, and what evaluation asks of a fitted model.

:class:`PreparedTask` holds a task, its dataset, its split and the encoded features. It hands
out two kinds of views and never more:

- :meth:`PreparedTask.train_view`, a :class:`TrainView`: everything ``fit`` may read. In the
  default ``"inductive"`` setting it holds the training samples only (their features, the
  training links of every type, the training labels a model may learn from); held-out samples
  do not exist for it. In the ``"transductive"`` setting the held-out samples are nodes too,
  with their features but without links or labels, for every model alike.
- :meth:`PreparedTask.new_samples`, :meth:`PreparedTask.link_queries` and
  :meth:`PreparedTask.label_queries`: the held-out samples of a part (scored by a fitted model
  exactly as new samples are at prediction time) and the questions asked about them.

Every question is cold: in each direction, a link is asked only where its query sample is held
out in that part and holds no link of the evaluated type in the training view. Candidates come
from the declared candidate set (:data:`mmgraph.data.task.CANDIDATE_SETS`), never from the
answers.

Scoring indices: a model scores node ``i`` of a modality, where ``0 .. n - 1`` are the nodes of
the training view (in its order) and ``n, n + 1, ...`` the new samples of
:meth:`PreparedTask.new_samples` (in their order).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from torch import Tensor

from mmgraph.data.dataset import SPLIT_NAMES, MultimodalDataset
from mmgraph.data.items import kept_samples, sample_draws
from mmgraph.data.known import KnownPairs, SameLabelPairs
from mmgraph.data.split import DatasetSplit, _matches
from mmgraph.data.task import CANDIDATE_SETS, Task
from mmgraph.errors import DataError, NotApplicableError
from mmgraph.io import atomic_write, load_json, load_tensors, save_tensors
from mmgraph.typing import DIRECTIONS, EdgeType, NodeType, edge_key

SETTINGS: tuple[str, ...] = ("inductive", "transductive")
"""``"inductive"`` (default): held-out samples do not exist for ``fit``; ``"transductive"``: their
features (only) are visible to every model alike."""

_ORDER = {name: i for i, name in enumerate(SPLIT_NAMES)}


@dataclass(frozen=True)
class TrainView:
    """Everything a model's ``fit`` may read.

    Attributes:
        task: the task's name.
        kind: ``"link"`` or ``"label"``.
        source: the task's query (link) or labelled (label) modality.
        target_edge_type: the link type the task predicts (link tasks), else None.
        setting: ``"inductive"`` or ``"transductive"``.
        node_ids: per modality, the sample ids of the view's nodes, in node order.
        features: per modality, the features of those nodes.
        train_rows: per modality, the rows that are training samples. Preprocessing statistics
            (standardisation, centring) come from these rows only; in the inductive setting
            they are all rows.
        links: training links of every type, ``(2, n)`` node indices of the view.
        cold_link_types: the link types a held-out sample lacks (all of them, or in ``partial``
            mode the hidden ones): a model learning to score cold samples hides these.
        classes: label names (label tasks); ``labels`` index into it.
        labels: per modality, the class a model may train on, ``-1`` elsewhere (label tasks).
        item_modalities: item tasks: the modalities an item query's samples may come from (a
            model learns to answer from each); empty when the task asks about single samples.
        keep: item tasks: the probability a held-out item keeps each of its samples, which a
            model may mimic on its training items.
        items: per modality, the item of each view node (the dataset's ``item`` column; ``""``
            where it has none), so a model can group its training samples into items.
    """

    task: str
    kind: str
    source: NodeType
    target_edge_type: EdgeType | None
    setting: str
    node_ids: dict[NodeType, np.ndarray]
    features: dict[NodeType, Tensor]
    train_rows: dict[NodeType, Tensor]
    links: dict[EdgeType, Tensor]
    cold_link_types: tuple[EdgeType, ...]
    classes: tuple[str, ...] = ()
    labels: dict[NodeType, Tensor] = field(default_factory=dict)
    item_modalities: tuple[NodeType, ...] = ()
    keep: float = 1.0
    items: dict[NodeType, np.ndarray] = field(default_factory=dict)

    @property
    def node_types(self) -> list[NodeType]:
        return list(self.features)

    @property
    def query(self) -> str:
        """``"item"`` or ``"sample"``: what the task's questions are about (:attr:`Task.query
        <mmgraph.data.task.Task.query>`); an item task names its item modalities."""
        return "item" if self.item_modalities else "sample"

    def num_nodes(self, node_type: NodeType) -> int:
        return int(self.features[node_type].shape[0])

    def sample_classes(self, *, min_class_share: float = 0.02) -> tuple[dict[NodeType, np.ndarray], float]:
        """Classes of the view's samples that its training links and labels define.

        The connected components of the training links of every type, where samples of one
        training label count as connected (:func:`link_components`), are the classes; those
        holding less than ``min_class_share`` of the samples in a component get ``-1``, as do
        samples without a link or label. On the digits tasks the classes are the digits.

        Returns:
            ``(classes per node type, coverage)`` as :func:`component_classes`.
        """
        components = link_components(
            {t: self.num_nodes(t) for t in self.node_types}, self.links, self.labels or None
        )
        return component_classes(components, min_class_share=min_class_share)

    def target_links(self) -> Tensor:
        """The training links of the target type, ``(2, n)``."""
        if self.target_edge_type is None:
            raise NotApplicableError(f"The task {self.task!r} is a {self.kind} task; it has no target link type.")
        return self.links.get(self.target_edge_type, torch.zeros((2, 0), dtype=torch.long))

    def label_sources(self, node_type: NodeType) -> tuple[Tensor, Tensor, str]:
        """The nodes of ``node_type`` with a label a model may learn from.

        The node type's own training labels if it has any. Otherwise the labels borrowed
        through training links: a node linked to labelled nodes of other modalities takes the
        majority of their labels (ties to the smaller class index).

        Returns:
            ``(nodes, labels, how)``, ``how`` saying where the labels came from.

        Raises:
            NotApplicableError: the node type has neither labels nor links to labelled nodes.

        Shapes:
            nodes: ``(n,)``, labels: ``(n,)`` class indices.
        """
        own = self.labels.get(node_type)
        if own is not None and bool((own >= 0).any()):
            nodes = (own >= 0).nonzero().flatten()
            return nodes, own[nodes], "own training labels"
        votes = torch.zeros(self.num_nodes(node_type), len(self.classes))
        via = set()
        for (src, _, dst), links in self.links.items():
            for here, there, other in ((0, 1, dst), (1, 0, src)):
                if (src, dst)[here] != node_type or other == node_type or other not in self.labels:
                    continue
                labels = self.labels[other][links[there]]
                readable = labels >= 0
                if not bool(readable.any()):
                    continue
                votes.index_put_(
                    (links[here][readable], labels[readable]), torch.ones(int(readable.sum())), accumulate=True
                )
                via.add(other)
        nodes = (votes.sum(1) > 0).nonzero().flatten()
        if nodes.numel() == 0:
            labelled = sorted(t for t, y in self.labels.items() if bool((y >= 0).any()))
            raise NotApplicableError(
                f"The node type {node_type!r} has no training labels and no training links to labelled "
                f"nodes (labelled modalities: {labelled}); its labels cannot be learned."
            )
        return nodes, votes[nodes].argmax(1), f"labels of linked {sorted(via)} nodes"

    def save(self, directory: str | os.PathLike) -> Path:
        """Writes ``view.json`` (ids, names, settings) and ``view.safetensors`` (features, links, labels)."""
        directory = Path(directory)
        tensors = {f"features/{t}": x for t, x in self.features.items()}
        tensors.update({f"train_rows/{t}": r for t, r in self.train_rows.items()})
        tensors.update({f"labels/{t}": y for t, y in self.labels.items()})
        tensors.update({f"links/{edge_key(e)}": links for e, links in self.links.items()})
        save_tensors(directory / "view.safetensors", tensors)
        meta = {
            "task": self.task, "kind": self.kind, "source": self.source, "setting": self.setting,
            "target_edge_type": list(self.target_edge_type) if self.target_edge_type else None,
            "cold_link_types": [list(t) for t in self.cold_link_types], "classes": list(self.classes),
            "node_ids": {t: [str(i) for i in ids] for t, ids in self.node_ids.items()},
            "links": [list(e) for e in self.links], "item_modalities": list(self.item_modalities), "keep": self.keep,
            "items": {t: [str(i) for i in items] for t, items in self.items.items()},
        }
        atomic_write(directory / "view.json", json.dumps(meta))
        return directory

    @classmethod
    def load(cls, directory: str | os.PathLike) -> TrainView:
        """Reads a view written by :meth:`save`."""
        directory = Path(directory)
        meta = load_json(directory / "view.json")
        tensors = load_tensors(directory / "view.safetensors")
        node_types = list(meta["node_ids"])
        return cls(
            task=meta["task"], kind=meta["kind"], source=meta["source"],
            target_edge_type=tuple(meta["target_edge_type"]) if meta["target_edge_type"] else None,
            setting=meta["setting"],
            node_ids={t: np.asarray(ids, dtype=object) for t, ids in meta["node_ids"].items()},
            features={t: tensors[f"features/{t}"] for t in node_types},
            train_rows={t: tensors[f"train_rows/{t}"] for t in node_types},
            links={tuple(e): tensors[f"links/{edge_key(tuple(e))}"] for e in meta["links"]},
            cold_link_types=tuple(tuple(t) for t in meta["cold_link_types"]), classes=tuple(meta["classes"]),
            labels={t: tensors[f"labels/{t}"] for t in node_types if f"labels/{t}" in tensors},
            item_modalities=tuple(meta.get("item_modalities", ())),
            keep=meta["keep"],
            items={t: np.asarray(items, dtype=object) for t, items in meta["items"].items()},
        )

    def __repr__(self) -> str:
        nodes = ", ".join(f"{t}={self.num_nodes(t)}" for t in self.node_types)
        links = sum(int(v.shape[1]) for v in self.links.values())
        return f"TrainView(task={self.task!r}, setting={self.setting!r}, nodes: {nodes}, links={links})"


@dataclass(frozen=True)
class LinkQueries:
    """The cold link questions of one part in one direction.

    Attributes:
        edge_type: the evaluated link type ``(src, relation, dst)``.
        direction: ``"src->dst"`` (queries are sources) or ``"dst->src"``.
        candidate_set: the candidate set's name.
        links: ``[query, answer]`` scoring indices of the evaluated links.
        candidates: the scoring indices of the candidates, the same for every query.
        known: every true ``[query, answer]`` pair among indexable nodes, for filtered ranking;
            for a same-label relation, a :class:`SameLabelPairs` over the scoring indices
            instead (the pairs are never materialised: there are about ``n^2 / num_classes``).
        num_query: size of the query side's scoring index space.
        num_answer: size of the answer side's scoring index space.

    Shapes:
        links: ``(2, n)``; candidates: ``(c,)``; known: ``(2, m)`` (or labels of both sides).
    """

    edge_type: EdgeType
    direction: str
    candidate_set: str
    links: Tensor
    candidates: Tensor
    known: Tensor | SameLabelPairs
    num_query: int
    num_answer: int

    @property
    def reverse(self) -> bool:
        """Whether queries are targets of :attr:`edge_type`."""
        return self.direction == "dst->src"

    @property
    def query_type(self) -> NodeType:
        return self.edge_type[2] if self.reverse else self.edge_type[0]

    @property
    def answer_type(self) -> NodeType:
        return self.edge_type[0] if self.reverse else self.edge_type[2]

    def known_pairs(self) -> KnownPairs | SameLabelPairs:
        """The true pairs, as a lookup (:class:`KnownPairs` or :class:`SameLabelPairs`)."""
        if isinstance(self.known, SameLabelPairs):
            return self.known
        return KnownPairs(self.known, num_query=self.num_query, num_target=self.num_answer)


@dataclass(frozen=True)
class LabelQueries:
    """The held-out samples of one part whose labels are asked, as scoring indices.

    ``labels`` index into ``classes``: the training classes (those a model predicts, in the
    order of :attr:`TrainView.classes`), then any class that only held-out samples have.
    """

    node_type: NodeType
    nodes: Tensor
    labels: Tensor
    classes: tuple[str, ...]


ITEM: NodeType = "item"
"""The query type of the questions of an :class:`ItemQueries`: their queries are item indices."""


@dataclass(frozen=True)
class ItemQueries:
    """The held-out items of one part of an item task, and the question asked of each.

    An item is the set of its held-out samples of the task's query modalities (every modality
    but the target, or only :attr:`Task.only <mmgraph.data.task.Task.only>`), each kept with
    probability ``keep`` (:mod:`mmgraph.data.items`); an item keeps at least one. A model
    receives the kept samples as new samples, by their scoring indices, and which of them form
    each item: ``members[m][j]`` belongs to item ``member_items[m][j]``. The samples of one item
    belong together; those of different items know nothing of each other. Only items with an
    answer among the candidates (link tasks) or a label (label tasks) are asked.

    Attributes:
        part: ``"val"`` or ``"test"``; ``"new"`` for a user's new items at prediction
            (:meth:`Predictor.predict_items <mmgraph.predict.Predictor.predict_items>`).
        keep: the probability each sample was kept with.
        only: the one query modality kept, or None.
        item_ids: the items' names (the dataset's ``item`` column); item ``i`` is at position ``i``.
        members: per query modality, the scoring indices of the kept samples.
        member_items: per query modality, the item index of each kept sample, aligned with ``members``.
        question: a :class:`LinkQueries` whose queries are items (``edge_type`` is
            ``(ITEM, relation, target)``; ``links`` holds ``[item index, answer]`` pairs; the
            candidates and answers are scoring indices of the target modality), or a
            :class:`LabelQueries` whose ``nodes`` are item indices (``node_type`` ``ITEM``); None
            for new items at prediction, whose answers nobody knows.

    Shapes:
        item_ids: ``(num_items,)``; members, member_items: ``{modality: (k,)}``.
    """

    part: str
    keep: float
    only: NodeType | None
    item_ids: np.ndarray
    members: dict[NodeType, Tensor]
    member_items: dict[NodeType, Tensor]
    question: LinkQueries | LabelQueries | None = None

    def __len__(self) -> int:
        return len(self.item_ids)

    @property
    def modalities(self) -> list[NodeType]:
        """The query modalities, in the order of :attr:`members`."""
        return list(self.members)

    def samples_of(self, item: int) -> dict[NodeType, Tensor]:
        """The scoring indices of one item's kept samples, per query modality (empty where it kept none)."""
        return {m: self.members[m][self.member_items[m] == item] for m in self.members}

    def kept_modalities(self) -> Tensor:
        """Whether each item kept a sample of each query modality.

        Shapes:
            return: ``(num_items, len(modalities))`` bool, columns in the order of :attr:`modalities`.
        """
        mask = torch.zeros(len(self), len(self.members), dtype=torch.bool)
        for column, items in enumerate(self.member_items.values()):
            mask[items, column] = True
        return mask

    def __repr__(self) -> str:
        kept = ", ".join(f"{m}={self.members[m].numel()}" for m in self.members)
        only = f", only={self.only!r}" if self.only is not None else ""
        return f"ItemQueries(part={self.part!r}, keep={self.keep}{only}, items={len(self)}, kept samples: {kept})"


@dataclass(frozen=True)
class Catalogue:
    """What a fitted model ranks for a new sample when asked with no option: the task's declared
    candidate set of its test part (:meth:`PreparedTask.catalogue`), per answer modality.

    The evaluator ranks exactly these candidates for the test queries, so a saved model's default
    answer is the question the reported metrics measure.

    Attributes:
        candidate_set: the declared set, ``"held-out"`` or ``"all"``.
        view_nodes: per answer modality, the training-view nodes in the set (node indices).
        new_ids: per answer modality, the ids of the held-out samples in the set, which a model
            meets as new samples.
        new_features: their features, in the same order.

    Shapes:
        view_nodes: ``{modality: (n,)}``; new_features: ``{modality: (m, dim)}``.
    """

    candidate_set: str
    view_nodes: dict[NodeType, Tensor]
    new_ids: dict[NodeType, np.ndarray]
    new_features: dict[NodeType, Tensor]

    def save(self, directory: str | os.PathLike) -> Path:
        """Writes ``catalogue.json`` (the set's name, the new samples' ids) and ``catalogue.safetensors``."""
        directory = Path(directory)
        tensors = {f"view_nodes/{t}": x for t, x in self.view_nodes.items()}
        tensors.update({f"new_features/{t}": x for t, x in self.new_features.items()})
        save_tensors(directory / "catalogue.safetensors", tensors)
        new_ids = {t: [str(i) for i in ids] for t, ids in self.new_ids.items()}
        meta = {"candidate_set": self.candidate_set, "new_ids": new_ids}
        atomic_write(directory / "catalogue.json", json.dumps(meta))
        return directory

    @classmethod
    def load(cls, directory: str | os.PathLike) -> Catalogue:
        """Reads a catalogue written by :meth:`save`."""
        directory = Path(directory)
        meta = load_json(directory / "catalogue.json")
        tensors = load_tensors(directory / "catalogue.safetensors")
        types = list(meta["new_ids"])
        return cls(
            candidate_set=meta["candidate_set"],
            view_nodes={t: tensors[f"view_nodes/{t}"] for t in types},
            new_ids={t: np.asarray(ids, dtype=object) for t, ids in meta["new_ids"].items()},
            new_features={t: tensors[f"new_features/{t}"] for t in types},
        )

    def __repr__(self) -> str:
        sizes = ", ".join(
            f"{t}={self.view_nodes[t].numel()}+{len(self.new_ids[t])} new" for t in self.view_nodes
        )
        return f"Catalogue(candidate_set={self.candidate_set!r}, {sizes})"


class PreparedTask:
    """A task with its dataset, split and features, ready to hand out views.

    Args:
        task: the task.
        dataset: the task's dataset (after :meth:`Task.make_dataset`).
        split: its split.
        features: the encoder features of every sample, per modality in node order.
        setting: ``"inductive"`` (default) or ``"transductive"`` (see :data:`SETTINGS`).
    """

    def __init__(
        self,
        task: Task,
        dataset: MultimodalDataset,
        split: DatasetSplit,
        features: dict[NodeType, Tensor],
        *,
        setting: str = "inductive",
    ) -> None:
        if setting not in SETTINGS:
            raise DataError(f"The 'setting' must be one of {SETTINGS}. Got {setting!r} instead.")
        missing = sorted(set(dataset.modalities) - set(features))
        if missing:
            raise DataError(f"PreparedTask needs features of every modality; missing: {missing}.")
        self.task, self.dataset, self.split, self.setting = task, dataset, split, setting
        self.features = {m: torch.as_tensor(features[m], dtype=torch.float32) for m in dataset.modalities}
        self.parts = {
            m: split.sample_split.loc[dataset.node_ids(m)].to_numpy(dtype=object) for m in dataset.modalities
        }
        self.target_edge_type = _target_edge_type(task, dataset)
        self.classes: tuple[str, ...] = ()
        if task.kind == "label":  # the classes of the training samples: held-out labels stay unseen
            labels = dataset.samples["label"][split.sample_split.loc[dataset.samples["id"]].to_numpy() == "train"]
            self.classes = tuple(sorted({str(v) for v in labels.dropna()}))

    def __repr__(self) -> str:
        return (
            f"PreparedTask(task={self.task.name!r}, setting={self.setting!r}, "
            f"candidates={self.task.candidates!r}, split={self.split!r})"
        )

    # ------------------------------------------------------------------ what fit reads
    def _in_view(self, modality: NodeType) -> np.ndarray:
        parts = self.parts[modality]
        return np.ones(len(parts), dtype=bool) if self.setting == "transductive" else parts == "train"

    def _view_rows(self, modality: NodeType) -> np.ndarray:
        return np.flatnonzero(self._in_view(modality))

    @cached_property
    def _train_links(self) -> dict[EdgeType, np.ndarray]:
        table = self.split.links("train")
        return self.dataset.links_by_type(table) if len(table) else {}

    def train_view(self) -> TrainView:
        """What ``fit`` may read: training samples, training links and training labels."""
        return self._train_view

    @cached_property
    def _train_view(self) -> TrainView:
        modalities = self.dataset.modalities
        rows = {m: self._view_rows(m) for m in modalities}
        local = {m: self._local_index(m) for m in modalities}
        links = {}
        for edge_type, pairs in self._train_links.items():
            src, _, dst = edge_type
            mapped = np.stack([local[src][pairs[0]], local[dst][pairs[1]]])
            if (mapped < 0).any():  # a training link joins two training samples by construction
                raise AssertionError(f"a training link of {edge_type} leaves the training view")
            links[edge_type] = torch.as_tensor(mapped)
        labels = {}
        if self.task.kind == "label":
            index = {c: i for i, c in enumerate(self.classes)}
            readable = self.task.label_modalities or (self.task.source,)
            for m in modalities:
                raw = self.dataset.labels(m)[rows[m]]
                trainable = (self.parts[m][rows[m]] == "train") & (m in readable)
                labels[m] = torch.tensor(
                    [index[str(v)] if ok and v is not None else -1 for v, ok in zip(raw, trainable, strict=True)],
                    dtype=torch.long,
                )
        return TrainView(
            task=self.task.name, kind=self.task.kind, source=self.task.source,
            target_edge_type=self.target_edge_type, setting=self.setting,
            node_ids={m: self.dataset.node_ids(m)[rows[m]] for m in modalities},
            features={m: self.features[m][torch.as_tensor(rows[m])] for m in modalities},
            train_rows={
                m: torch.as_tensor(np.flatnonzero(self.parts[m][rows[m]] == "train")) for m in modalities
            },
            links=links, cold_link_types=self._cold_link_types(), classes=self.classes, labels=labels,
            item_modalities=self.task.query_modalities(modalities) if self.task.query == "item" else (),
            keep=self.task.keep, items={m: self._items[m][rows[m]] for m in modalities},
        )

    def _cold_link_types(self) -> tuple[EdgeType, ...]:
        hide = self.split.hide if self.split.mode == "partial" else None
        return tuple(t for t in self.dataset.edge_types() if hide is None or any(_matches(t, s) for s in hide))

    def _local_index(self, modality: NodeType) -> np.ndarray:
        """Dataset node index -> node index of the training view (-1 if not in it)."""
        index = np.full(len(self.parts[modality]), -1, dtype=np.int64)
        rows = self._view_rows(modality)
        index[rows] = np.arange(len(rows))
        return index

    # ------------------------------------------------------------------ held-out samples
    def _new_rows(self, modality: NodeType, part: str) -> np.ndarray:
        """Dataset rows of the samples that are new when evaluating ``part``: held out, not in
        the training view, in ``part`` or an earlier held-out part."""
        _check_part(part)
        order = np.array([_ORDER[p] for p in self.parts[modality]])
        return np.flatnonzero(~self._in_view(modality) & (order <= _ORDER[part]))

    def new_samples(self, part: str) -> dict[NodeType, Tensor]:
        """Features of the samples a model meets as new when ``part`` is evaluated.

        For ``"val"`` the validation samples; for ``"test"`` the validation and test samples
        (a test query may be ranked against validation candidates of the catalogue). Empty in
        the transductive setting, where held-out samples are nodes of the training view.

        Shapes:
            return: ``{modality: (num_new, dim)}``.
        """
        return {m: self.features[m][torch.as_tensor(self._new_rows(m, part))] for m in self.dataset.modalities}

    def new_sample_ids(self, part: str) -> dict[NodeType, np.ndarray]:
        """The ids of :meth:`new_samples`, in the same order."""
        return {m: self.dataset.node_ids(m)[self._new_rows(m, part)] for m in self.dataset.modalities}

    def scoring_index(self, modality: NodeType, part: str) -> np.ndarray:
        """Dataset node index -> scoring index when evaluating ``part`` (-1: not scorable then)."""
        index = self._local_index(modality)
        new = self._new_rows(modality, part)
        index[new] = len(self._view_rows(modality)) + np.arange(len(new))
        return index

    # ------------------------------------------------------------------ questions
    @cached_property
    def one_to_one(self) -> bool:
        """Whether every sample holds at most one training link of the target type.

        Decided from the training links alone, what a saved model knows, so that no held-out
        link shapes a question (on every named task it is the same as over all links).
        """
        if self.target_edge_type is None or self.task.same_label_is_link:
            return False
        pairs = self._train_links.get(self.target_edge_type, np.zeros((2, 0), dtype=np.int64))
        return all(np.bincount(side).max(initial=0) <= 1 for side in pairs)

    @cached_property
    def _true_pairs(self) -> np.ndarray:
        """Every true pair of the target type, dataset node indices ``(2, m)`` (a relation given by
        links; a same-label relation is answered from the labels, see :meth:`_known`)."""
        return self.dataset.links_by_type().get(self.target_edge_type, np.zeros((2, 0), dtype=np.int64))

    @cached_property
    def _label_codes(self) -> dict[NodeType, np.ndarray]:
        """Per modality of the target type, each sample's label as an int shared by both sides (-1: none)."""
        src, _, dst = self._link_type()
        labels = {m: self.dataset.labels(m) for m in (src, dst)}
        values = set().union(*(set(v) for v in labels.values())) - {None}
        code = {v: i for i, v in enumerate(sorted(values, key=str))}
        return {m: np.array([code.get(v, -1) for v in raw], dtype=np.int64) for m, raw in labels.items()}

    def _known(self, q: int, query_index: np.ndarray, answer_index: np.ndarray) -> Tensor | SameLabelPairs:
        """The true ``[query, answer]`` pairs among scorable nodes, in scoring indices; ``q`` is the
        query side (0: sources) of the target type."""
        if not self.task.same_label_is_link:
            true = self._true_pairs[[q, 1 - q]]
            true = np.stack([query_index[true[0]], answer_index[true[1]]])
            return torch.as_tensor(true[:, (true >= 0).all(0)])
        src, _, dst = self._link_type()
        sides = []
        for modality, index in ((src, dst)[q], query_index), ((src, dst)[1 - q], answer_index):
            labels = np.full(int(index.max()) + 1, -1, dtype=np.int64)
            scorable = index >= 0
            labels[index[scorable]] = self._label_codes[modality][scorable]
            sides.append(torch.as_tensor(labels))
        return SameLabelPairs(*sides)

    def candidates(self, part: str, candidate_set: str | None = None, *, direction: str = "src->dst") -> np.ndarray:
        """Dataset node indices of the answer side's candidates in one direction.

        ``"held-out"``: the answer modality's samples of ``part``. ``"all"``: every answer
        sample known when ``part`` is evaluated (training samples and the held-out parts up to
        ``part``); for a one-to-one relation, without the samples that already hold a training
        link of it. Answers play no part in either.
        """
        candidate_set = candidate_set or self.task.candidates
        if candidate_set not in CANDIDATE_SETS:
            raise DataError(f"The candidate set must be one of {CANDIDATE_SETS}. Got {candidate_set!r} instead.")
        src, _, dst = self._link_type()
        answer_type, side = (src, 0) if direction == "dst->src" else (dst, 1)
        parts = self.parts[answer_type]
        if candidate_set == "held-out":
            return np.flatnonzero(parts == part)
        order = np.array([_ORDER[p] for p in parts])
        keep = order <= _ORDER[part]
        if self.one_to_one:
            linked = self._train_links.get(self.target_edge_type, np.zeros((2, 0), dtype=np.int64))[side]
            keep[linked] = False
        return np.flatnonzero(keep)

    def catalogue(self, part: str = "test") -> Catalogue:
        """The declared candidates of ``part`` in both directions (:meth:`candidates`), as a fitted
        model meets them: training-view nodes, and held-out samples given as new samples.

        What :class:`~mmgraph.predict.Predictor` ranks by default, so that a saved model's default
        answer is the question the evaluator asks of ``part``.
        """
        src, _, dst = self._link_type()
        view_nodes, new_ids, new_features = {}, {}, {}
        for direction, answer_type in (("src->dst", dst), ("dst->src", src)):
            rows = self.candidates(part, direction=direction)
            index = self.scoring_index(answer_type, part)[rows]
            in_view = index < len(self._view_rows(answer_type))
            view_nodes[answer_type] = torch.as_tensor(index[in_view])
            new_ids[answer_type] = self.dataset.node_ids(answer_type)[rows[~in_view]]
            new_features[answer_type] = self.features[answer_type][torch.as_tensor(rows[~in_view])]
        return Catalogue(self.task.candidates, view_nodes, new_ids, new_features)

    def link_queries(self, part: str, candidate_set: str | None = None) -> dict[str, LinkQueries]:
        """The cold link questions of ``part``, per direction (a direction without any is left out).

        In direction ``"src->dst"`` a link ``(s, d)`` of ``part`` is asked where ``s`` is a
        sample of ``part`` (held out) that holds no training link of the type, and ``d`` is
        among :meth:`candidates`; ``"dst->src"`` likewise with the roles swapped.
        """
        _check_part(part)
        if part == "train":
            raise DataError("Training links are not evaluated; use part='val' or part='test'.")
        candidate_set = candidate_set or self.task.candidates
        edge_type = self._link_type()
        src, _, dst = edge_type
        pairs = self.dataset.links_by_type(self.split.links(part)).get(edge_type, np.zeros((2, 0), dtype=np.int64))
        linked = self._train_links.get(edge_type, np.zeros((2, 0), dtype=np.int64))
        out = {}
        for direction in DIRECTIONS:
            q, a = (1, 0) if direction == "dst->src" else (0, 1)
            query_type, answer_type = (edge_type[2], edge_type[0]) if q == 1 else (edge_type[0], edge_type[2])
            candidates = self.candidates(part, candidate_set, direction=direction)
            is_candidate = np.zeros(len(self.parts[answer_type]), dtype=bool)
            is_candidate[candidates] = True
            warm = np.zeros(len(self.parts[query_type]), dtype=bool)
            warm[linked[q]] = True
            asked = (self.parts[query_type][pairs[q]] == part) & ~warm[pairs[q]] & is_candidate[pairs[a]]
            if not asked.any():
                continue
            query_index, answer_index = self.scoring_index(query_type, part), self.scoring_index(answer_type, part)
            links = np.stack([query_index[pairs[q][asked]], answer_index[pairs[a][asked]]])
            out[direction] = LinkQueries(
                edge_type=edge_type, direction=direction, candidate_set=candidate_set,
                links=torch.as_tensor(links), candidates=torch.as_tensor(answer_index[candidates]),
                known=self._known(q, query_index, answer_index), num_query=int(query_index.max()) + 1,
                num_answer=int(answer_index.max()) + 1,
            )
        return out

    def label_queries(self, part: str) -> LabelQueries:
        """The labelled samples of the task's modality held out in ``part``."""
        _check_part(part)
        if self.task.kind != "label":
            raise NotApplicableError(f"The task {self.task.name!r} is a link task; it asks no labels.")
        node_type = self.task.source
        raw = self.dataset.labels(node_type)
        rows = np.flatnonzero((self.parts[node_type] == part) & np.array([v is not None for v in raw], dtype=bool))
        scoring = self.scoring_index(node_type, part)
        return self._label_question(node_type, torch.as_tensor(scoring[rows]), [str(raw[i]) for i in rows])

    def _label_question(self, node_type: NodeType, nodes: Tensor, labels: list[str]) -> LabelQueries:
        """The label question of ``nodes`` whose labels are ``labels``: the training classes, and after
        them any class no training sample has (no model predicts it, so such a node counts as an error)."""
        classes = self.classes + tuple(sorted(set(labels) - set(self.classes)))
        index = {c: i for i, c in enumerate(classes)}
        return LabelQueries(
            node_type=node_type, nodes=nodes, labels=torch.tensor([index[label] for label in labels], dtype=torch.long),
            classes=classes,
        )

    def item_queries(self, part: str, *, keep: float | None = None, only: NodeType | None = None) -> ItemQueries:
        """The held-out items of ``part`` and the task's question about each (item tasks).

        An item's query samples are its samples of ``part`` in the query modalities, each kept
        as :mod:`mmgraph.data.items` draws with the task's ``keep`` from the split's seed: the
        same items for every model and on every call.

        Args:
            part: ``"val"`` or ``"test"``.
            keep, only: ask the items at another level than the task's (one of the two, as in
                :meth:`Task.variant <mmgraph.data.task.Task.variant>`: ``only=M`` keeps every sample
                of ``M`` and nothing else); both None: the task's own ``keep`` and ``only``.
        """
        _check_part(part)
        if keep is not None and only is not None:
            raise DataError(f"An item level is one of keep or only; got keep={keep!r} and only={only!r}.")
        if keep is None:
            keep, only = (1.0, only) if only is not None else (self.task.keep, self.task.only)
        elif not 0 < keep <= 1:
            raise DataError(f"keep is the probability of keeping a sample, in (0, 1]; got {keep!r}.")
        if part == "train":
            raise DataError("Training items are not asked; use part='val' or part='test'.")
        task = self.task
        if task.query != "item":
            raise NotApplicableError(
                f"The task {task.name!r} asks about single samples (query={task.query!r}); it has no item queries."
            )
        modalities = task.query_modalities(self.dataset.modalities)
        if only is not None:
            if only not in modalities:
                raise DataError(
                    f"The task {task.name!r} keeps only={only!r}, which is not one of the query modalities "
                    f"{list(modalities)} of its dataset {self.dataset.name!r}."
                )
            modalities = (only,)
        rows = {m: np.flatnonzero((self.parts[m] == part) & self._items[m].astype(bool)) for m in modalities}
        names = np.unique(np.concatenate([self._items[m][r] for m, r in rows.items()]).astype(str))
        if task.kind == "link":
            names, question = self._item_links(part, names)
        else:
            names, question = self._item_labels(part, names)
        index = {name: i for i, name in enumerate(names)}
        asked = {m: np.array([self._items[m][r] in index for r in rows[m]], dtype=bool) for m in modalities}
        rows = {m: rows[m][asked[m]] for m in modalities}
        item_of = {m: np.array([index[self._items[m][r]] for r in rows[m]], dtype=np.int64) for m in modalities}
        draws = {m: self._item_draws[m][rows[m]] for m in modalities}
        kept = kept_samples(
            np.concatenate([item_of[m] for m in modalities]), np.concatenate([draws[m] for m in modalities]), keep
        )
        bounds = np.cumsum([0, *(len(rows[m]) for m in modalities)])
        members, member_items = {}, {}
        for m, start, stop in zip(modalities, bounds[:-1], bounds[1:], strict=True):
            mask = kept[start:stop]
            members[m] = torch.as_tensor(self.scoring_index(m, part)[rows[m][mask]])
            member_items[m] = torch.as_tensor(item_of[m][mask])
        return ItemQueries(
            part=part, keep=keep, only=only, item_ids=np.asarray(names, dtype=object),
            members=members, member_items=member_items, question=question,
        )

    def item_members(self, items: ItemQueries) -> pd.DataFrame:
        """The kept samples of ``items`` (from :meth:`item_queries`), one row each: ``item`` (its
        name), ``modality`` and ``id`` (the dataset's sample id), modality by modality in the order
        of ``items.members``: what a user would give :meth:`Predictor.predict_items
        <mmgraph.predict.Predictor.predict_items>` to ask the same items."""
        _check_part(items.part)
        frames = []
        for m, members in items.members.items():
            index = self.scoring_index(m, items.part)
            node_of = np.full(int(index.max(initial=-1)) + 1, -1)
            node_of[index[index >= 0]] = np.flatnonzero(index >= 0)
            frames.append(pd.DataFrame({
                "item": items.item_ids[items.member_items[m].numpy()], "modality": m,
                "id": np.asarray(self.dataset.node_ids(m))[node_of[members.numpy()]],
            }))
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["item", "modality", "id"])

    @cached_property
    def _items(self) -> dict[NodeType, np.ndarray]:
        """Per modality, each sample's item (``""`` where it has none)."""
        return {
            m: np.array([v or "" for v in self.dataset.modality_samples(m)["item"]], dtype=object)
            for m in self.dataset.modalities
        }

    @cached_property
    def _item_draws(self) -> dict[NodeType, np.ndarray]:
        """Per modality, each sample's number of :func:`~mmgraph.data.items.sample_draws`."""
        draws = sample_draws(len(self.dataset.samples), seed=self.split.seed)
        modality = self.dataset.samples["modality"].to_numpy(dtype=object)
        return {m: draws[modality == m] for m in self.dataset.modalities}

    def _item_links(self, part: str, names: np.ndarray) -> tuple[np.ndarray, LinkQueries]:
        """The items of ``names`` with an answer among the candidates, and their link question: each
        item's answers are the target samples of the same item."""
        edge_type = self._link_type()
        target = self.task.target
        direction = "src->dst" if edge_type[2] == target else "dst->src"
        candidates = self.candidates(part, direction=direction)
        answer_index = self.scoring_index(target, part)
        is_candidate = np.zeros(len(answer_index), dtype=bool)
        is_candidate[candidates] = True
        position = {name: i for i, name in enumerate(names)}
        items = self._items[target]
        true = np.array(
            [(position[items[r]], r) for r in range(len(items)) if items[r] in position and answer_index[r] >= 0],
            dtype=np.int64,
        ).reshape(-1, 2)
        asked = true[is_candidate[true[:, 1]]]
        names = names[np.unique(asked[:, 0])]
        renumber = np.full(len(position), -1, dtype=np.int64)
        renumber[np.unique(asked[:, 0])] = np.arange(len(names))
        true = true[renumber[true[:, 0]] >= 0]

        def pairs(table: np.ndarray) -> Tensor:
            return torch.as_tensor(np.stack([renumber[table[:, 0]], answer_index[table[:, 1]]]))

        question = LinkQueries(
            edge_type=(ITEM, edge_type[1], target), direction="src->dst", candidate_set=self.task.candidates,
            links=pairs(asked), candidates=torch.as_tensor(answer_index[candidates]), known=pairs(true),
            num_query=len(names), num_answer=int(answer_index.max()) + 1,
        )
        return names, question

    def _item_labels(self, part: str, names: np.ndarray) -> tuple[np.ndarray, LabelQueries]:
        """The items of ``names`` with a label, and their label question: an item's label is the one
        its samples of ``part`` carry."""
        found: dict[str, set[str]] = {}
        for m in self.dataset.modalities:
            labels, rows = self.dataset.labels(m), np.flatnonzero(self.parts[m] == part)
            for item, label in zip(self._items[m][rows], labels[rows], strict=True):
                if item and label is not None:
                    found.setdefault(item, set()).add(str(label))
        conflicting = sorted(item for item in names if len(found.get(item, ())) > 1)
        if conflicting:
            raise DataError(
                f"The samples of an item must share one label; in {self.dataset.name!r} the item "
                f"{conflicting[0]!r} has the labels {sorted(found[conflicting[0]])} ({len(conflicting)} items differ). "
                "Give each item's samples the same label."
            )
        names = np.array([item for item in names if item in found], dtype=object)
        labels = [next(iter(found[item])) for item in names]
        return names, self._label_question(ITEM, torch.arange(len(names)), labels)

    def _link_type(self) -> EdgeType:
        if self.target_edge_type is None:
            raise NotApplicableError(f"The task {self.task.name!r} is a label task; it asks no links.")
        return self.target_edge_type


def link_components(
    num_nodes: dict[NodeType, int],
    links: dict[EdgeType, Tensor],
    labels: dict[NodeType, Tensor] | None = None,
) -> dict[NodeType, np.ndarray]:
    """The connected component of every node of the graph of ``links`` and shared ``labels``.

    Two nodes are connected when a link joins them or when they carry the same label (a label
    acts as one more node every sample of that label is linked to).

    Returns:
        Per node type, ``(num_nodes[t],)`` component indices numbered ``0..K-1``; ``-1`` for a
        node with neither a link nor a label.

    Example:
        >>> links = {("a", "to", "b"): torch.tensor([[0, 1, 2], [0, 0, 1]])}
        >>> parts = link_components({"a": 4, "b": 3}, links)
        >>> parts["a"].tolist(), parts["b"].tolist()
        ([0, 0, 1, -1], [0, 1, -1])
    """
    types = list(num_nodes)
    offset = dict(zip(types, np.cumsum([0, *num_nodes.values()])[:-1].tolist(), strict=True))
    label_ids = sorted({int(v) for y in (labels or {}).values() for v in y.tolist() if v >= 0})
    label_node = {v: sum(num_nodes.values()) + i for i, v in enumerate(label_ids)}
    src, dst = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
    for (s, _, d), pairs in links.items():
        pairs = torch.as_tensor(pairs).numpy()
        src.append(pairs[0] + offset[s])
        dst.append(pairs[1] + offset[d])
    for t, y in (labels or {}).items():
        rows = np.flatnonzero(y.numpy() >= 0)
        src.append(rows + offset[t])
        dst.append(np.array([label_node[int(v)] for v in y.numpy()[rows]], dtype=np.int64))
    s, d = np.concatenate(src), np.concatenate(dst)
    n = sum(num_nodes.values()) + len(label_ids)
    _, parts = connected_components(coo_matrix((np.ones(len(s)), (s, d)), shape=(n, n)), directed=False)
    anchored = np.zeros(n, dtype=bool)
    anchored[s], anchored[d] = True, True
    _, parts[anchored] = np.unique(parts[anchored], return_inverse=True)
    parts[~anchored] = -1
    return {t: parts[offset[t] : offset[t] + num_nodes[t]] for t in types}


def component_classes(
    components: dict[NodeType, np.ndarray], *, min_class_share: float
) -> tuple[dict[NodeType, np.ndarray], float]:
    """The components that hold at least ``min_class_share`` of the nodes in some component, as
    classes ``0..K-1``; the nodes of smaller components get ``-1``.

    Returns:
        ``(classes per node type, coverage)``: coverage is the share of the nodes in a
        component that belong to a class (near 1 where the links form a few large groups, near
        0 where they pair samples one to one).
    """
    sizes = np.bincount(np.concatenate([c for c in components.values()]) + 1)[1:]
    kept = np.flatnonzero(sizes >= min_class_share * sizes.sum())
    relabel = np.full(len(sizes) + 1, -1)
    relabel[kept] = np.arange(len(kept))  # -1 (no component) maps to relabel[-1] = -1
    coverage = float(sizes[kept].sum() / sizes.sum()) if sizes.sum() else 0.0
    return {t: relabel[c] for t, c in components.items()}, coverage


def _check_part(part: str) -> None:
    if part not in SPLIT_NAMES:
        raise DataError(f"The part must be one of {SPLIT_NAMES}. Got {part!r} instead.")


def _target_edge_type(task: Task, dataset: MultimodalDataset) -> EdgeType | None:
    if task.kind != "link":
        return None
    types = [t for t in dataset.edge_types() if {t[0], t[2]} == {task.source, task.target}]
    if not types:
        raise DataError(
            f"The dataset {dataset.name!r} has no links between {task.source!r} and {task.target!r}; "
            f"its link types are {dataset.edge_types()}."
        )
    if len(types) > 1:
        raise DataError(
            f"The dataset {dataset.name!r} has several link types between {task.source!r} and "
            f"{task.target!r}: {types}. Give the links one relation name."
        )
    return types[0]
