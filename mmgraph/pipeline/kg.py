"""A knowledge-graph (``kg``) task from triples to a result: read, encode the entities, fit, rank.

Why a second, small run path beside :func:`mmgraph.pipeline.run.pipeline`'s: a ``kg`` task has no
samples to split, no similarity graph and no new samples to attach. Its data is
:class:`~mmgraph.data.triples.Triples` in the dataset's own train/val/test files, every entity is
a candidate, and the test is the standard filtered ranking of every entity as head and as tail
(:func:`mmgraph.evaluation.evaluate_triples`). What the two paths share is shared code: the model
registry and factory, the run configuration, the checkpoint, the validation callback's contract
(``validate(scoring) -> metrics``), the embedding cache and :class:`PipelineResult` (its one save).
:func:`~mmgraph.pipeline.run.pipeline` hands ``kg`` tasks to :func:`kg_pipeline`.

The setting is transductive by the protocol: every entity (its id and its text) is known while
fitting, as in every published WN18RR result; the triples of val and test are not.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any

from tqdm.auto import tqdm

from mmgraph.data.triples import Triples, TripleView
from mmgraph.errors import ConfigError, DataError
from mmgraph.evaluation import KnownTriples, evaluate_triples
from mmgraph.models.base import RelationModel, Scoring, Validate
from mmgraph.pipeline.config import run_config, run_fingerprint
from mmgraph.pipeline.encoding import entity_features
from mmgraph.pipeline.environment import environment_record, package_version
from mmgraph.pipeline.result import PipelineResult
from mmgraph.tasks import Task
from mmgraph.training.checkpoint import Checkpoint

KG_SETTING = "transductive"
"""The setting a ``kg`` run records: every entity and its text is known while fitting (the standard protocol)."""


def kg_pipeline(
    task: Task,
    fitted: RelationModel,
    *,
    seed: int,
    triples: Triples | None = None,
    root: str | os.PathLike | None = None,
    encoders: Mapping[str, Any] | None = None,
    cache: Any = "default",
    progress: bool = True,
    checkpoint_dir: str | os.PathLike | None = None,
    checkpoint_every: int = 1,
) -> PipelineResult:
    """Runs a ``kg`` task with a model of ``kg`` tasks (seeded by the caller); call it through
    :func:`~mmgraph.pipeline.pipeline`.

    The model fits on the training triples and every entity's features (:class:`TripleView`),
    stops early on the filtered MRR of the validation triples (filtered with train and val), and
    is ranked on the test triples, filtered with every split: all of them and, under
    ``"known_entities/"``, those whose entities all occur in a training triple; each side and
    their mean.

    Args:
        task: a ``kg`` task; its ``dataset`` names the triples (:func:`mmgraph.datasets.load_triples`).
        fitted: the model, not fitted yet.
        seed: the run's seed (the model holds it in its settings).
        triples: the triples instead of the task's dataset (tests, a slice).
        root: the data folder (else ``MMGRAPH_DATA``).
        encoders: the entities' encoder under the task's entity modality (``{"entity": "tfidf"}``),
            else the task's.
        cache: an :class:`~mmgraph.encoders.EmbeddingCache`, ``"default"`` or ``None``.
        progress: progress bars (training, test ranking).
        checkpoint_dir: where training saves its checkpoint (resumed by the same run).
        checkpoint_every: epochs between checkpoints.
    """
    from mmgraph.datasets import load_triples

    unknown = sorted(set(encoders or {}) - {task.source})
    if unknown:
        raise DataError(f"Encoders were given for {unknown}; the entities of the task {task.name!r} are the "
                        f"modality {task.source!r}. Name their encoder {task.source}=NAME.")
    timings: dict[str, float] = {}
    start = time.perf_counter()
    if triples is None:
        if task.dataset is None:
            raise ConfigError(f"The task {task.name!r} names no dataset; pass dataset= (its Triples).")
        triples = load_triples(task.dataset, root=root, **task.dataset_options)
    timings["load_seconds"] = time.perf_counter() - start
    start = time.perf_counter()
    choice = {**task.encoders, **(encoders or {})}.get(task.source, "minilm")
    features, encoder = entity_features(triples, choice, cache=cache, progress=progress)
    timings["encode_seconds"] = time.perf_counter() - start

    name = fitted.name
    config = run_config(task, name, fitted, seed=seed, setting=KG_SETTING, encoders={task.source: encoder})
    data = {"dataset": task.dataset, "fingerprint": triples.fingerprint(), "entities": triples.num_entities,
            "triples": {split: len(rows) for split, rows in triples.splits.items()}}
    checkpoint = None
    if checkpoint_dir is not None:
        checkpoint = Checkpoint(
            checkpoint_dir, fingerprint=run_fingerprint(config, data["fingerprint"]), every=checkpoint_every
        )
    view = TripleView(task.name, triples["train"], triples.num_entities, triples.num_relations, features)
    start = time.perf_counter()
    fitted.fit(view, validate=triple_validator(triples), progress=progress, checkpoint=checkpoint)
    timings["train_seconds"] = time.perf_counter() - start

    start = time.perf_counter()
    model = fitted.scorer()
    known = KnownTriples(triples.all_triples(), num_entities=triples.num_entities,
                         num_relations=triples.num_relations)
    test = triples["test"]
    with tqdm(total=2 * len(test), desc=f"{name}: ranking the test triples", unit="query",
              disable=not progress) as bar:

        def counted(score):
            def scores(entity, relation):
                bar.update(len(entity))
                return score(entity, relation)

            return scores

        metrics = evaluate_triples(counted(model.score_tails), counted(model.score_heads), test, known,
                                   known_entities=triples.entities_of("train"))
    timings["eval_seconds"] = time.perf_counter() - start
    if checkpoint is not None:
        checkpoint.remove()
    return PipelineResult(
        task={**task.summary(), "setting": KG_SETTING}, model=name, seed=seed,
        metrics={k: int(v) if k.endswith("num_test") else float(v) for k, v in metrics.items()},
        config=config, timings=timings, version=package_version(), environment=environment_record(),
        model_config=fitted.config(), data=data, fitted=fitted, encoders={task.source: encoder},
    )


def triple_validator(triples: Triples, *, part: str = "val") -> Validate:
    """The validation callback of a ``kg`` task: the filtered rank metrics of ``part``'s triples
    (filtered with train and ``part``), both sides; ``scoring(None)`` gives the scorer to rank with
    (``score_tails``, ``score_heads``)."""
    rows = triples[part]
    known = KnownTriples(triples.all_triples(["train", part]), num_entities=triples.num_entities,
                         num_relations=triples.num_relations)

    def validate(scoring: Scoring, *, max_links: int | None = None) -> dict[str, float]:
        scorer = scoring(None)
        return evaluate_triples(scorer.score_tails, scorer.score_heads, rows, known)  # type: ignore[attr-defined]

    return validate
