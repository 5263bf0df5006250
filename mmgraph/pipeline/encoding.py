"""Encoding a dataset's modalities for a task (encoders fitted on training samples only) and preparing the task."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from mmgraph.data import DatasetSplit, MultimodalDataset, split_dataset
from mmgraph.data.dataset import check_informative
from mmgraph.data.prepared import PreparedTask
from mmgraph.data.triples import Triples
from mmgraph.errors import (
    DataError,
)
from mmgraph.tasks import Task
from mmgraph.typing import NodeType

logger = logging.getLogger(__name__)


def encode_dataset(
    dataset: MultimodalDataset,
    split: DatasetSplit,
    *,
    encoders: Mapping[NodeType, Any] | None = None,
    cache: Any = "default",
    progress: bool = True,
    task: Task | None = None,
) -> tuple[dict[NodeType, Tensor], dict[NodeType, Any]]:
    """Encodes every modality of ``dataset``.

    Encoders that learn from the corpus (TF-IDF, pixel PCA, the GRU) are fitted on training
    samples only; an encoder that learns classes (``needs_classes``) gets the classes that the
    ``task``'s training links and labels define (:func:`training_classes`), the information
    every model's ``fit`` reads. Features the dataset already carries are used as they are.

    Returns:
        ``(features, fitted encoders)``; a modality with dataset features has no encoder.
    """
    from mmgraph.encoders import EmbeddingCache, default_encoder, encode_cached, fit_cached, resolve

    if cache == "default":
        cache = EmbeddingCache()
    unknown = sorted(set(encoders or {}) - set(dataset.modalities))
    if unknown:
        raise DataError(
            f"Encoders were given for {unknown}, and {dataset.name!r} has no modality of that name; its modalities "
            f"are {dataset.modalities}. Name encoders by modality, e.g. image=precomputed:vectors.npz."
        )
    features, fitted = {}, {}
    train_ids = set(split.sample_ids("train"))
    classes: dict[NodeType, dict[str, int]] | None = None
    for modality in dataset.modalities:
        if modality in dataset.features:
            features[modality] = torch.as_tensor(dataset.features[modality], dtype=torch.float32)
            continue
        ids = dataset.node_ids(modality)
        payloads = dataset.payloads(modality)
        choice = (encoders or {}).get(modality) or default_encoder(payloads, modality=modality)
        encoder = resolve(choice)
        if encoder.input_kind == "id":  # features a user holds, looked up by sample id
            payloads = [str(i) for i in ids]
        train = [(p, i) for p, i in zip(payloads, ids, strict=True) if i in train_ids]
        # with no training sample, an encoder that learns from its payloads would learn from held-out ones
        # (one that looks up a user's vectors by id learns nothing from them)
        if not train and encoder.requires_fit and encoder.input_kind != "id":
            raise DataError(
                f"The modality {modality!r} has no training sample, and its {encoder.name!r} encoder learns from the "
                "training samples; fitting it on held-out samples would let them shape the features. Give the "
                "modality training samples (check the split's mode and groups) or an encoder with fixed weights "
                "(see `mmgraph encoders`)."
            )
        if not train:
            fit_cached(encoder, [], cache=None, progress=False)  # reads a vectors file; fixed weights: a no-op
        elif encoder.needs_classes:
            if task is None:
                raise DataError(
                    f"The {encoder.name!r} encoder of modality {modality!r} learns the classes of the training "
                    f"samples, which come from the task's training links and labels; pass task= to encode_dataset."
                )
            classes = classes or training_classes(task, dataset, split)
            fit_cached(encoder, [p for p, _ in train], classes=[classes[modality].get(str(i), -1) for _, i in train],
                       cache=cache, progress=progress)
        else:
            fit_cached(encoder, [p for p, _ in train], cache=cache, progress=progress)
        logger.info("encoding %d %s samples with %r", len(payloads), modality, encoder)
        array = encode_cached(encoder, payloads, cache=cache, progress=progress)
        check_informative(array, f"The {encoder.name!r} features of modality {modality!r}")
        features[modality] = torch.as_tensor(array, dtype=torch.float32)
        fitted[modality] = encoder
    return features, fitted


def training_classes(task: Task, dataset: MultimodalDataset, split: DatasetSplit) -> dict[NodeType, dict[str, int]]:
    """Per modality, the class of each training sample (by id) that the task's training links
    and labels define (:meth:`~mmgraph.data.TrainView.sample_classes`); samples outside a class
    are absent. Built from the task's training view, so it reads only what ``fit`` may read."""
    no_features = {m: torch.zeros(len(dataset.node_ids(m)), 0) for m in dataset.modalities}
    view = PreparedTask(task, dataset, split, no_features).train_view()
    classes, _ = view.sample_classes()
    return {
        m: {str(i): int(c) for i, c in zip(view.node_ids[m], classes[m], strict=True) if c >= 0}
        for m in view.node_types
    }


def prepare_task(
    task: Task,
    dataset: MultimodalDataset,
    *,
    seed: int,
    features: Mapping[NodeType, Tensor],
    split: DatasetSplit | None = None,
    setting: str = "inductive",
) -> PreparedTask:
    """Splits the dataset (unless ``split`` is given) and prepares the task's views."""
    split = split or split_dataset(dataset, seed=seed, **task.split)
    return PreparedTask(task, dataset, split, dict(features), setting=setting)


def entity_features(
    triples: Triples, encoder: Any = "minilm", *, cache: Any = "default", progress: bool = True
) -> tuple[Tensor, Any]:
    """Every entity's text encoded (WN18RR: its lemma and gloss), through the embedding cache.

    An encoder that learns from its corpus (TF-IDF) is fitted on the texts of the entities of a
    training triple only, as :func:`encode_dataset` fits on training samples.

    Args:
        triples: the knowledge graph, with ``entity_texts``.
        encoder: a name, spec or instance (see :func:`mmgraph.encoders.resolve`); default MiniLM.
        cache: an :class:`~mmgraph.encoders.EmbeddingCache`, ``"default"`` or ``None``.
        progress: show a progress bar while encoding.

    Returns:
        ``(features, fitted encoder)``; features ``(num_entities, dim)`` float32.
    """
    from mmgraph.encoders import EmbeddingCache, encode_cached, fit_cached, resolve

    if triples.entity_texts is None:
        raise DataError(f"{triples!r} holds no entity texts to encode; give Triples(..., entity_texts=...).")
    if cache == "default":
        cache = EmbeddingCache()
    encoder = resolve(encoder)
    texts = list(triples.entity_texts)
    seen = triples.entities_of("train").tolist() if "train" in triples.splits else [True] * len(texts)
    fit_cached(encoder, [t for t, s in zip(texts, seen, strict=True) if s], cache=cache, progress=False)
    array = encode_cached(encoder, texts, cache=cache, progress=progress)
    check_informative(array, f"The {encoder.name!r} features of the entities")
    return torch.as_tensor(array, dtype=torch.float32), encoder
