"""WN18RR with cold entities: a held-out entity arrives with its text only, and its triples are ranked.

The split is :func:`mmgraph.data.triples.cold_entity_split` (seeded: 10% of the 40,943 entities
held out for test, 5% for validation, each with every triple that touches it; training keeps the
train triples between the other entities). Each cold triple is asked from its new entity, its
known partner ranked among all known entities, filtered with every true triple of WN18RR
(:func:`mmgraph.evaluation.evaluate_cold_triples`; realistic ranks; "tail" = the new entity is
the head, "head" = it is the tail).

Models:

- ``relation-prior``: reads no feature (a candidate's count as the answer of the relation's side
  in training): what the protocol gives a model that knows nothing of the new entity.
- ``text-cosine``: the cosine of the MiniLM features of the two entities' lemma and gloss.
- ``text-ridge``: one ridge map per relation and side from the new entity's text features to its
  partner's (:class:`mmgraph.models.kg_baselines.TextRidgeKG`), penalty chosen per side on the
  validation entities (``None``, the plain cosine, among the choices).

Resumable: a model already in ``--out``/kg-records.json is not run again.

Usage::

    MMGRAPH_DATA=../shared/data .venv/bin/python benchmarks/wn18rr_cold.py [--models ...] [--threads 1]

Writes ``--out`` (default ``benchmarks/results/wn18rr-cold``): ``kg-records.json`` and ``results.md``
(not ``results.json``: that name holds the run records of ``mmgraph bench``, which the report and
notebooks read).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from measure import machine_line, peak_rss, reset_peak

from mmgraph.data.triples import ColdEntities, cold_entity_split
from mmgraph.datasets import wn18rr_triples
from mmgraph.evaluation import KnownTriples, evaluate_cold_triples
from mmgraph.io import atomic_write
from mmgraph.models.kg_baselines import RelationPrior, TextRidgeKG
from mmgraph.pipeline import entity_features

HERE = Path(__file__).resolve().parent


def relation_prior(cold: ColdEntities, features: torch.Tensor, validate: Callable) -> tuple[Any, dict[str, Any]]:
    model = RelationPrior().fit(cold.triples["train"], num_entities=cold.triples.num_entities,
                                num_relations=cold.triples.num_relations)
    return model, {}


def text_cosine(cold: ColdEntities, features: torch.Tensor, validate: Callable) -> tuple[Any, dict[str, Any]]:
    model = TextRidgeKG(alphas=(None,)).fit(features, cold.triples["train"], num_relations=cold.triples.num_relations)
    return model, {}


def text_ridge(cold: ColdEntities, features: torch.Tensor, validate: Callable) -> tuple[Any, dict[str, Any]]:
    model = TextRidgeKG().fit(features, cold.triples["train"], num_relations=cold.triples.num_relations,
                              validate=validate)
    return model, {"chosen": {side: alpha for side, alpha in model.chosen_.items()}, "alphas": model.alphas}


MODELS: dict[str, tuple[Callable, str]] = {
    "relation-prior": (relation_prior, "no feature: each candidate's count as the answer of the relation's side"),
    "text-cosine": (text_cosine, "cosine of the MiniLM features of lemma + gloss"),
    "text-ridge": (text_ridge, "ridge map per relation and side, MiniLM features, penalty chosen on validation"),
}


def write_table(records: dict[str, Any], out: Path) -> None:
    """The markdown table of every model run so far, from ``kg-records.json``'s records."""
    first = next(iter(records.values()), {})
    split = first.get("split", {})
    lines = [
        "## WN18RR, cold entities",
        "",
        first.get("machine", ""),
        f"- split: `{split.get('repr', '')}` (seed {split.get('seed', '?')}); command: `{first.get('command', '')}`",
        "- each cold triple asked from its new entity (text only), its partner ranked among the known entities, "
        "filtered with every WN18RR triple, realistic ranks; tail = new head, head = new tail; MRR/H@k the mean "
        "over all questions",
        "",
        "| model | MRR | H@1 | H@3 | H@10 | tail MRR | head MRR | validation MRR | fit s | peak GiB |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for record in records.values():
        test, val = record["test"], record["validation"]
        cells = [f"{test[key]:.3f}" for key in ("mrr", "hits@1", "hits@3", "hits@10", "tail/mrr", "head/mrr")]
        cells += [f"{val['mrr']:.3f}", f"{record['fit_seconds']:.0f}", f"{record['peak_bytes'] / 2**30:.1f}"]
        lines.append(f"| {record['model']} | " + " | ".join(cells) + " |")
    lines += ["", "Models:", ""]
    lines += [f"- {record['model']}: {record['description']}" for record in records.values()]
    atomic_write(out / "results.md", "\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default=",".join(MODELS), help=f"comma-separated, among {list(MODELS)}")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--data", default=None, help="the data folder (default MMGRAPH_DATA)")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "wn18rr-cold")
    parser.add_argument("--seed", type=int, default=0, help="the seed of the split")
    parser.add_argument("--eval-batch", type=int, default=256, help="questions scored at once")
    args = parser.parse_args(argv)
    names = [name.strip() for name in args.models.split(",") if name.strip()]
    unknown = sorted(set(names) - set(MODELS))
    if unknown:
        parser.error(f"unknown model(s) {unknown}; choose among {list(MODELS)}")
    torch.set_num_threads(args.threads)
    source = wn18rr_triples(args.data)
    cold = cold_entity_split(source, seed=args.seed)
    known = KnownTriples(source.all_triples(), num_entities=source.num_entities, num_relations=source.num_relations)
    features = entity_features(source)[0]
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    path = out / "kg-records.json"
    records = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}

    def validate(model: Any) -> dict[str, float]:
        return evaluate_cold_triples(model.score_tails, model.score_heads, cold, known, split="val",
                                     batch_size=args.eval_batch)

    for name in names:
        if name in records:
            print(f"[{name}] in {path} already: skipped", file=sys.stderr)
            continue
        build, description = MODELS[name]
        reset_peak()
        start = time.perf_counter()
        model, extra = build(cold, features, validate)
        fit_seconds = time.perf_counter() - start
        record = {
            "model": name, "description": description, "machine": machine_line(args.threads),
            "command": "python benchmarks/wn18rr_cold.py " + " ".join(argv if argv is not None else sys.argv[1:]),
            "split": {"seed": args.seed, "repr": repr(cold)}, "fit_seconds": fit_seconds, **extra,
            "validation": validate(model),
            "test": evaluate_cold_triples(model.score_tails, model.score_heads, cold, known,
                                          batch_size=args.eval_batch),
        }
        record["peak_bytes"] = peak_rss()
        records[name] = record
        atomic_write(path, json.dumps(records, indent=1))
        write_table(records, out)
        print(f"[{name}] test MRR {record['test']['mrr']:.4f}", file=sys.stderr)


if __name__ == "__main__":
    main()
