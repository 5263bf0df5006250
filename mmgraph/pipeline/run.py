"""One call from a task to a result: load, split, encode, build the graph, fit, evaluate."""

from __future__ import annotations

import logging
import os
import time
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from mmgraph.data import MultimodalDataset, split_dataset
from mmgraph.data.prepared import SETTINGS, PreparedTask
from mmgraph.data.triples import Triples
from mmgraph.errors import (
    ConfigError,
    DataError,
)
from mmgraph.models.base import RelationModel
from mmgraph.pipeline.config import run_config, run_fingerprint
from mmgraph.pipeline.encoding import encode_dataset, prepare_task
from mmgraph.pipeline.environment import environment_record, package_version, seed_everything
from mmgraph.pipeline.evaluation import evaluate
from mmgraph.pipeline.factory import make_model
from mmgraph.pipeline.result import PipelineResult
from mmgraph.pipeline.validation import NoValidationWarning, validator
from mmgraph.tasks import Task, get_task
from mmgraph.training.checkpoint import Checkpoint
from mmgraph.typing import NodeType

logger = logging.getLogger(__name__)

COUNT_METRICS: tuple[str, ...] = ("num_queries", "num_candidates", "num_items")
"""The endings of the metrics that count questions (kept as ints in a result)."""


def pipeline(
    task: str | Task | Mapping[str, Any],
    *,
    dataset: MultimodalDataset | Triples | None = None,
    model: str | RelationModel = "gnn",
    seed: int | None = None,
    root: str | os.PathLike | None = None,
    model_options: Mapping[str, Any] | None = None,
    encoders: Mapping[NodeType, Any] | None = None,
    setting: str = "inductive",
    cache: Any = "default",
    progress: bool = True,
    checkpoint_dir: str | os.PathLike | None = None,
    checkpoint_every: int | None = None,
) -> PipelineResult:
    """Runs one task end to end and evaluates on its test split.

    The model is fitted on the training view only (in the default ``"inductive"`` setting, held-out
    samples do not exist for it), selected on validation, and the test samples are then scored
    as new samples through :meth:`RelationModel.scorer`, the path prediction takes. An item task
    (``query="item"``) asks about its held-out items instead, through
    :meth:`RelationModel.item_scorer` (models of :func:`~mmgraph.models.item_models`; another
    model raises :class:`~mmgraph.errors.NotApplicableError` before any data is read), and its
    validation callback also scores the validation items (:class:`~mmgraph.pipeline.validation.ItemValidation`).

    Args:
        task: a task name (see :data:`mmgraph.tasks.TASKS`), a :class:`Task` or its
            :meth:`Task.spec`.
        dataset: the dataset; default: the task's loader with its options. A knowledge-graph
            (``kg``) task takes :class:`~mmgraph.data.triples.Triples` and runs through
            :func:`mmgraph.pipeline.kg.kg_pipeline` (its setting is always transductive).
        model: ``"gnn"`` (the default relation learner) or another registered model name.
        seed: seeds the split, the encoders' fitting and the model; drawn and logged if None.
        root: where the shared data lies (else ``MMGRAPH_DATA``).
        model_options: settings of the model (for ``"gnn"``: :class:`~mmgraph.models.gnn_model.GNNConfig`).
        encoders: encoder per modality (a name, an instance or a spec, see
            :func:`mmgraph.encoders.resolve`), overriding the task's choice.
        setting: ``"inductive"`` (default) or ``"transductive"`` (held-out features visible to
            every model alike); named in the result.
        cache: an :class:`~mmgraph.encoders.EmbeddingCache`, ``"default"`` or ``None``.
        progress: show progress bars.
        checkpoint_dir: a folder where training saves a checkpoint every ``checkpoint_every``
            epochs (models with a training loop: ``gnn``, ``siamese``, ``fusion``,
            ``attention-fusion``). Called again with the same arguments after being killed, the
            run resumes from the last checkpoint and gives the same result as an uninterrupted
            one; a checkpoint of another configuration or data is not resumed (the run starts
            fresh). The checkpoint's files are removed when the run succeeds.
        checkpoint_every: epochs between checkpoints; default 10, and 1 on a ``kg`` task (an
            epoch of WN18RR is minutes of CPU).

    Returns:
        The :class:`PipelineResult`, with the fitted model in ``result.fitted``. Its ``config``
        holds the arguments that run the same thing again: ``pipeline(**result.config)`` (with
        the same ``dataset=`` when one was passed) gives the same metrics on the same machine.

    Example:
        >>> result = pipeline("openmoji-text", seed=0)  # doctest: +SKIP
        >>> result.metrics["mrr"]  # doctest: +SKIP
    """
    from mmgraph.datasets import load

    task = get_task(task)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0):
        raise ConfigError(f"The 'seed' of pipeline must be an int >= 0 (or None to draw one). Got {seed!r} instead.")
    if setting not in SETTINGS:
        raise ConfigError(f"The 'setting' of pipeline must be one of {SETTINGS}. Got {setting!r} instead.")
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % (2**31))
        logger.warning("no seed given; drew seed %d", seed)
    fitted = make_model(model, model_options, seed)  # a wrong name or setting fails now, not after encoding
    fitted.check_kind(task.name, task.kind)  # and a model of another kind of task
    fitted.check_query(task.name, task.query)  # or of other queries (items, single samples)
    seed_everything(seed)
    if task.kind == "kg":  # triples, not samples: the small path of mmgraph.pipeline.kg
        from mmgraph.pipeline.kg import kg_pipeline

        if dataset is not None and not isinstance(dataset, Triples):
            raise DataError(f"The task {task.name!r} is a knowledge-graph task; its dataset= must be Triples "
                            f"(mmgraph.datasets.load_triples). Got {type(dataset).__name__} instead.")
        return kg_pipeline(task, fitted, seed=seed, triples=dataset, root=root, encoders=encoders, cache=cache,
                           progress=progress, checkpoint_dir=checkpoint_dir, checkpoint_every=checkpoint_every or 1)
    timings: dict[str, float] = {}
    start = time.perf_counter()
    if dataset is None:
        if task.dataset is None:
            raise ConfigError(f"The task {task.name!r} names no dataset; pass dataset=.")
        dataset = load(task.dataset, root=root, **task.dataset_options)
    dataset = task.make_dataset(dataset, seed)
    split = split_dataset(dataset, seed=seed, **task.split)
    timings["load_seconds"] = time.perf_counter() - start

    start = time.perf_counter()
    features, fitted_encoders = encode_dataset(
        dataset, split, encoders={**task.encoders, **(encoders or {})}, cache=cache, progress=progress, task=task
    )
    timings["encode_seconds"] = time.perf_counter() - start

    prepared = prepare_task(task, dataset, seed=seed, features=features, split=split, setting=setting)
    _check_parts(prepared)
    start = time.perf_counter()
    name = getattr(fitted, "name", type(fitted).__name__)
    config = run_config(task, name, fitted, seed=seed, setting=setting, encoders=fitted_encoders)
    data = {"dataset": dataset.name, "fingerprint": dataset.fingerprint(), "samples": len(dataset.samples),
            "links": len(dataset.links)}
    checkpoint = None
    if checkpoint_dir is not None:
        checkpoint = Checkpoint(
            checkpoint_dir, fingerprint=run_fingerprint(config, data["fingerprint"]), every=checkpoint_every or 10
        )
    fitted.fit(prepared.train_view(), validate=validator(prepared), progress=progress, checkpoint=checkpoint)
    timings["train_seconds"] = time.perf_counter() - start

    start = time.perf_counter()
    metrics = evaluate(fitted, prepared, "test", seed=seed)
    timings["eval_seconds"] = time.perf_counter() - start
    if checkpoint is not None:
        checkpoint.remove()
    return PipelineResult(
        task={**task.summary(), "setting": setting}, model=name, seed=seed,
        metrics={k: int(v) if k.endswith(COUNT_METRICS) else float(v) for k, v in metrics.items()},
        config=config, timings=timings, version=package_version(), environment=environment_record(),
        model_config=fitted.config(),
        data=data, fitted=fitted, prepared=prepared, encoders=fitted_encoders,
    )


def _check_parts(prepared: PreparedTask) -> None:
    """Before training: a split whose test part asks nothing fails now, not after the fit; one whose
    validation part asks nothing is valid (models keep their default settings) and is said."""
    task = prepared.task

    def asks(part: str) -> bool:
        if task.query == "item":
            return len(prepared.item_queries(part)) > 0
        if task.kind == "label":
            return prepared.label_queries(part).nodes.numel() > 0
        return bool(prepared.link_queries(part, task.candidates))

    asked = "items" if task.query == "item" else "labels" if task.kind == "label" else "links"
    if not asks("test"):
        raise DataError(
            f"The split of the task {task.name!r} leaves no test {asked} to "
            f"evaluate (split {task.split}, {prepared.split!r}). Give the test part a larger fraction or more data."
        )
    if not asks("val"):
        warnings.warn(
            f"The split of the task {task.name!r} leaves no validation "
            f"{asked}; the model is not selected on validation and keeps its "
            "default settings.",
            NoValidationWarning, stacklevel=3,
        )
