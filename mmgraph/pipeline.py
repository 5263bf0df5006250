"""One call from a task to a result: load, split, encode, build the graph, fit, evaluate."""

from __future__ import annotations

import json
import logging
import os
import platform
import random
import shutil
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from mmgraph.data import DatasetSplit, MultimodalDataset, split_dataset
from mmgraph.evaluation.evaluator import evaluate_link_auc, evaluate_links, evaluate_node_labels
from mmgraph.graph import GraphBuilder
from mmgraph.models.gnn_model import GNNModel
from mmgraph.models.relation_learner import RelationLearner
from mmgraph.tasks import Task, get_task
from mmgraph.typing import EdgeType, NodeType

logger = logging.getLogger(__name__)


def _version() -> str:
    from mmgraph import __version__

    return __version__


# ---------------------------------------------------------------------- prepared task data
@dataclass
class TaskData:
    """Everything a model may read for one task and split, and what evaluation needs.

    Attributes:
        task: the task.
        dataset: the task's dataset.
        split: its split.
        features: encoder features per modality, in node order.
        graph: the heterogeneous graph over all samples with the *training* links only.
        train_links: training links per edge type, as node indices.
        target_edge_type: the link type the task predicts (link tasks).
        known_links: every true link of the target type, all splits (for filtered ranking).
        node_split: per modality, the split of every node (``"train"``, ``"val"``, ``"test"``).
        classes: label names (label tasks); ``labels`` index into it, ``-1`` where unknown.
        labels: true labels per modality (for evaluation; the graph only has training ones).
        label_train_mask: per modality, the nodes whose labels a model may train on.
        maskable_edge_types: link types a held-out node lacks (with their reverses).
    """

    task: Task
    dataset: MultimodalDataset
    split: DatasetSplit
    features: dict[NodeType, Tensor]
    graph: HeteroData
    train_links: dict[EdgeType, Tensor]
    target_edge_type: EdgeType | None
    known_links: Tensor | None
    node_split: dict[NodeType, np.ndarray]
    classes: list[str] = field(default_factory=list)
    labels: dict[NodeType, Tensor] = field(default_factory=dict)
    label_train_mask: dict[NodeType, Tensor] = field(default_factory=dict)
    maskable_edge_types: list[EdgeType] = field(default_factory=list)

    def links(self, part: str) -> Tensor:
        """The links of the target type in one split part, ``(2, n)`` node indices."""
        table = self.split.links(part)
        by_type = self.dataset.links_by_type(table) if len(table) else {}
        return torch.as_tensor(by_type.get(self.target_edge_type, np.zeros((2, 0), dtype=np.int64)))

    def pool(self, node_type: NodeType, part: str, edges: Tensor, side: int) -> Tensor:
        """Candidate nodes of ``node_type`` for evaluating ``part``: the nodes of that part and
        the endpoints of its links, sorted."""
        in_part = torch.as_tensor(np.flatnonzero(self.node_split[node_type] == part))
        return torch.unique(torch.cat([in_part, edges[side]]))


def _target_edge_type(task: Task, dataset: MultimodalDataset) -> EdgeType | None:
    if task.kind != "link":
        return None
    types = [t for t in dataset.edge_types() if {t[0], t[2]} == {task.source, task.target}]
    if not types:
        raise ValueError(
            f"The dataset {dataset.name!r} has no links between {task.source!r} and {task.target!r}; "
            f"its link types are {dataset.edge_types()}."
        )
    if len(types) > 1:
        raise ValueError(
            f"The dataset {dataset.name!r} has several link types between {task.source!r} and "
            f"{task.target!r}: {types}. Give the links one relation name."
        )
    return types[0]


def encode_dataset(
    dataset: MultimodalDataset,
    split: DatasetSplit,
    *,
    encoders: Mapping[NodeType, Any] | None = None,
    cache: Any = "default",
    progress: bool = True,
) -> tuple[dict[NodeType, Tensor], dict[NodeType, Any]]:
    """Encodes every modality of ``dataset``.

    Encoders that learn from the corpus (TF-IDF, pixel PCA) are fitted on training samples
    only. Features the dataset already carries are used as they are.

    Returns:
        ``(features, fitted encoders)``; a modality with dataset features has no encoder.
    """
    from mmgraph.encoders import EmbeddingCache, default_encoder, encode_cached, resolve

    if cache == "default":
        cache = EmbeddingCache()
    features, fitted = {}, {}
    train_ids = set(split.sample_ids("train"))
    for modality in dataset.modalities:
        if modality in dataset.features:
            features[modality] = torch.as_tensor(dataset.features[modality], dtype=torch.float32)
            continue
        payloads = dataset.payloads(modality)
        choice = (encoders or {}).get(modality) or default_encoder(payloads)
        encoder = resolve(choice)
        ids = dataset.node_ids(modality)
        train_payloads = [p for p, i in zip(payloads, ids, strict=True) if i in train_ids]
        encoder.fit(train_payloads or payloads)
        logger.info("encoding %d %s samples with %r", len(payloads), modality, encoder)
        array = encode_cached(encoder, payloads, cache=cache, progress=progress)
        features[modality] = torch.as_tensor(array, dtype=torch.float32)
        fitted[modality] = encoder
    return features, fitted


def prepare_task(
    task: Task,
    dataset: MultimodalDataset,
    *,
    seed: int,
    features: Mapping[NodeType, Tensor],
    builder: GraphBuilder,
    split: DatasetSplit | None = None,
) -> TaskData:
    """Splits the dataset and builds the training graph for one task."""
    split = split or split_dataset(dataset, seed=seed, **task.split)
    node_split = {
        m: split.sample_split.loc[dataset.node_ids(m)].to_numpy(dtype=object) for m in dataset.modalities
    }
    train_table = split.links("train")
    train_links = {
        t: torch.as_tensor(v) for t, v in (dataset.links_by_type(train_table) if len(train_table) else {}).items()
    }
    target = _target_edge_type(task, dataset)
    known = None
    if target is not None:
        if task.same_label_is_link:
            known = _same_label_pairs(dataset, target)
        else:
            known = torch.as_tensor(dataset.links_by_type()[target])
    classes: list[str] = []
    labels, label_mask, graph_labels = {}, {}, None
    if task.kind == "label":
        classes = sorted({str(v) for v in dataset.samples["label"].dropna()})
        index = {c: i for i, c in enumerate(classes)}
        readable = task.label_modalities or (task.source,)
        graph_labels = {}
        for modality in dataset.modalities:
            y = torch.tensor([index.get(v, -1) if v is not None else -1 for v in dataset.labels(modality)])
            labels[modality] = y
            mask = torch.as_tensor(node_split[modality] == "train") & (y >= 0)
            if modality not in readable:
                mask = torch.zeros_like(mask)
            label_mask[modality] = mask
            graph_labels[modality] = torch.where(mask, y, torch.full_like(y, -1))
    graph = builder.build(features, train_links, labels=graph_labels)
    maskable = _maskable_types(task, dataset, builder)
    return TaskData(
        task=task, dataset=dataset, split=split, features=dict(features), graph=graph,
        train_links=train_links, target_edge_type=target, known_links=known, node_split=node_split,
        classes=classes, labels=labels, label_train_mask=label_mask, maskable_edge_types=maskable,
    )


def _same_label_pairs(dataset: MultimodalDataset, edge_type: EdgeType) -> Tensor:
    src_labels = dataset.labels(edge_type[0])
    dst_labels = dataset.labels(edge_type[2])
    pairs = []
    for label in set(src_labels) - {None}:
        s = np.flatnonzero(src_labels == label)
        d = np.flatnonzero(dst_labels == label)
        pairs.append(np.stack(np.meshgrid(s, d, indexing="ij")).reshape(2, -1))
    return torch.as_tensor(np.concatenate(pairs, axis=1) if pairs else np.zeros((2, 0), dtype=np.int64))


def _maskable_types(task: Task, dataset: MultimodalDataset, builder: GraphBuilder) -> list[EdgeType]:
    """Link types a held-out node lacks: all of them, or in partial mode the hidden ones."""
    from mmgraph.data.split import _matches

    hide = task.split.get("hide")
    types = []
    for edge_type in dataset.edge_types():
        if task.split.get("mode") == "partial" and not any(_matches(edge_type, tuple(s)) for s in hide):
            continue
        src, rel, dst = edge_type
        types += [edge_type, (dst, builder.reverse_prefix + rel, src)]
    return types


# ---------------------------------------------------------------------- models
def make_model(model: str | Any, options: Mapping[str, Any] | None, seed: int) -> Any:
    """Builds a model from its name (``"gnn"``) or returns an instance as it is."""
    from mmgraph.models import MODELS

    if not isinstance(model, str):
        return model
    options = dict(options or {})
    options.setdefault("seed", seed)
    return MODELS.get(model)(**options)


# ---------------------------------------------------------------------- results
@dataclass
class PipelineResult:
    """What one run produced: metrics, settings, seed, timings and the fitted model.

    ``save(directory)`` writes ``result.json`` and, where the model can, its weights; no pickle.
    """

    task: dict[str, Any]
    model: str
    seed: int
    metrics: dict[str, float]
    config: dict[str, Any]
    timings: dict[str, float]
    version: str
    environment: dict[str, str] = field(default_factory=dict)
    fitted: Any = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task, "model": self.model, "seed": self.seed, "metrics": self.metrics,
            "config": self.config, "timings": self.timings, "version": self.version,
            "environment": self.environment,
        }

    def save(self, directory: str | os.PathLike) -> Path:
        """Writes ``result.json`` (and ``model/`` for a GNN) to ``directory``, atomically."""
        directory = Path(directory)
        directory.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
        try:
            (staging / "result.json").write_text(json.dumps(self.to_dict(), indent=2, default=json_default))
            if isinstance(self.fitted, GNNModel):
                self.fitted.learner.save(staging / "model")
            if directory.exists():
                shutil.rmtree(directory)
            os.replace(staging, directory)
        finally:
            if staging.exists():
                shutil.rmtree(staging)
        return directory

    @classmethod
    def load(cls, directory: str | os.PathLike) -> PipelineResult:
        """Reads a result written by :meth:`save` (with the learner, when one was saved)."""
        directory = Path(directory)
        path = directory / "result.json"
        if not path.exists():
            raise FileNotFoundError(f"No result.json in {str(directory)!r}; give the folder a run saved to.")
        record = json.loads(path.read_text())
        result = cls(**record)
        if (directory / "model" / "learner.json").exists():
            result.fitted = RelationLearner.load(directory / "model")
        return result

    def __str__(self) -> str:
        lines = [f"{self.task['name']} | model {self.model} | seed {self.seed}"]
        for key, value in self.metrics.items():
            lines.append(f"  {key:<22} {value:.4f}" if isinstance(value, float) else f"  {key:<22} {value}")
        lines.append("  " + ", ".join(f"{k} {v:.1f}s" for k, v in self.timings.items()))
        return "\n".join(lines)


def json_default(value: Any) -> Any:
    """Turns numpy scalars, tuples, sets and paths into JSON values (``json.dumps(default=...)``)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple | set):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"Cannot write {type(value).__name__} to JSON")


def _environment() -> dict[str, str]:
    import torch_geometric

    return {
        "python": platform.python_version(), "torch": torch.__version__,
        "torch_geometric": torch_geometric.__version__, "machine": platform.machine(),
        "cpus": str(os.cpu_count()),
    }


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def pipeline(
    task: str | Task,
    *,
    dataset: MultimodalDataset | None = None,
    model: str | Any = "gnn",
    seed: int | None = None,
    root: str | os.PathLike | None = None,
    model_options: Mapping[str, Any] | None = None,
    k: int = 10,
    encoders: Mapping[NodeType, Any] | None = None,
    cache: Any = "default",
    progress: bool = True,
) -> PipelineResult:
    """Runs one task end to end and evaluates on its test split.

    Args:
        task: a task name (see :data:`mmgraph.tasks.TASKS`) or a :class:`Task`.
        dataset: the dataset; default: the task's loader with its options.
        model: ``"gnn"`` (the default relation learner) or another registered model name.
        seed: seeds the split, the encoders' fitting and the model; drawn and logged if None.
        root: where the shared data lies (else ``MMGRAPH_DATA``).
        model_options: settings of the model (for ``"gnn"``: :class:`RelationLearnerConfig`).
        k: similarity neighbours per node in the graph.
        encoders: encoder per modality, overriding the task's choice.
        cache: an :class:`~mmgraph.encoders.EmbeddingCache`, ``"default"`` or ``None``.
        progress: show progress bars.

    Returns:
        The :class:`PipelineResult`, with the fitted model in ``result.fitted``.

    Example:
        >>> result = pipeline("openmoji-text", seed=0)  # doctest: +SKIP
        >>> result.metrics["mrr"]  # doctest: +SKIP
    """
    from mmgraph.datasets import load

    task = get_task(task)
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % (2**31))
        logger.warning("no seed given; drew seed %d", seed)
    seed_everything(seed)
    timings: dict[str, float] = {}
    start = time.perf_counter()
    if dataset is None:
        if task.dataset is None:
            raise ValueError(f"The task {task.name!r} names no dataset; pass dataset=.")
        dataset = load(task.dataset, root=root, **task.dataset_options)
    dataset = task.make_dataset(dataset, seed)
    split = split_dataset(dataset, seed=seed, **task.split)
    timings["load_seconds"] = time.perf_counter() - start

    start = time.perf_counter()
    features, fitted_encoders = encode_dataset(
        dataset, split, encoders={**task.encoders, **(encoders or {})}, cache=cache, progress=progress
    )
    timings["encode_seconds"] = time.perf_counter() - start

    start = time.perf_counter()
    builder = GraphBuilder(k=k)
    data = prepare_task(task, dataset, seed=seed, features=features, builder=builder, split=split)
    timings["graph_seconds"] = time.perf_counter() - start

    start = time.perf_counter()
    fitted = make_model(model, model_options, seed)
    fitted.fit(data, progress=progress)
    timings["train_seconds"] = time.perf_counter() - start

    start = time.perf_counter()
    if task.kind == "link":
        metrics = evaluate_links(fitted, data, "test")
        metrics.update(evaluate_link_auc(fitted, data, "test", seed=seed))
    else:
        metrics = evaluate_node_labels(fitted, data, "test")
    timings["eval_seconds"] = time.perf_counter() - start
    fitted.encoders_ = fitted_encoders
    fitted.builder_ = builder
    fitted.data_ = data
    return PipelineResult(
        task=task.summary(), model=getattr(fitted, "name", type(fitted).__name__), seed=seed,
        metrics={k: (int(v) if k.startswith("num_") else float(v)) for k, v in metrics.items()},
        config={"model": fitted.config(), "k": k, "encoders": {m: repr(e) for m, e in fitted_encoders.items()}},
        timings=timings, version=_version(), environment=_environment(), fitted=fitted,
    )


def predict_links(
    result: PipelineResult, payloads: list[str], *, modality: NodeType, target: NodeType, k: int = 10
) -> pd.DataFrame:
    """Ranks ``target`` samples for brand-new samples of ``modality``.

    The new samples are encoded with the run's fitted encoder, attached to the fitted graph
    by similarity (they have no known link) and scored against every ``target`` sample.

    Returns:
        One row per (query, rank): ``query`` (position in ``payloads``), ``rank``, ``id`` of the
        candidate sample and ``score``.
    """
    model = result.fitted
    if not isinstance(model, GNNModel) or not hasattr(model, "data_"):
        raise ValueError("predict_links needs the result of a GNN pipeline run in this session.")
    data: TaskData = model.data_
    if modality not in model.encoders_:
        raise ValueError(f"No fitted encoder for modality {modality!r}; have {sorted(model.encoders_)}.")
    edge_type = data.target_edge_type
    if {edge_type[0], edge_type[2]} != {modality, target}:
        raise ValueError(f"The model predicts {edge_type} links, not {modality!r} -> {target!r}.")
    features = torch.as_tensor(model.encoders_[modality].encode(payloads), dtype=torch.float32)
    graph, new_index = model.builder_.attach(data.graph, modality, features)
    candidates = torch.arange(data.graph[target].num_nodes)
    try:
        model.refresh(graph)
        scores = model.link_scores(edge_type, new_index, candidates, reverse=edge_type[0] != modality)
    finally:
        model.refresh(data.graph)
    top = scores.topk(min(k, scores.shape[1]), dim=1)
    ids = data.dataset.node_ids(target)
    rows = [
        (q, r + 1, ids[int(top.indices[q, r])], float(top.values[q, r]))
        for q in range(len(payloads)) for r in range(top.indices.shape[1])
    ]
    return pd.DataFrame(rows, columns=["query", "rank", "id", "score"])
