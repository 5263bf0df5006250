"""KGModel's loss chosen on validation triples: 1-N softmax cross-entropy against binary cross-entropy.

Trains :class:`mmgraph.models.kg.KGModel` with its default settings (``KGConfig``: 200 dims, Adam
0.001, batch 128, label smoothing 0.1, inputs both: the MiniLM features of each entity's lemma and
gloss through mmgraph's embedding cache plus a learned embedding) on a slice of WN18RR (the
``--entities`` entities with most training triples, :meth:`mmgraph.data.triples.Triples.busiest`),
once per loss and model, each for ``--minutes`` of CPU time on one thread, early stopping on the
filtered validation MRR (filtered with train and val). Prints the best validation MRR of every run;
the test triples are never read.

Usage::

    MMGRAPH_DATA=../shared/data .venv/bin/python benchmarks/kg_loss_choice.py [--entities 5000] [--minutes 3]
"""

from __future__ import annotations

import argparse

import torch

from mmgraph.datasets import wn18rr_triples
from mmgraph.encoders import EmbeddingCache, encode_cached, fit_cached, resolve
from mmgraph.evaluation import KnownTriples, evaluate_triples
from mmgraph.models.kg import KGModel

MODELS = {"compgcn+distmult": dict(conv="compgcn", decoder="distmult"),
          "none+distmult": dict(conv="none", decoder="distmult")}
LOSSES = ("softmax", "bce")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entities", type=int, default=5000, help="the slice: this many busiest entities")
    parser.add_argument("--minutes", type=float, default=3.0, help="CPU-minutes per run (training and validation)")
    parser.add_argument("--seeds", default="0", help="comma-separated")
    parser.add_argument("--data", default=None, help="the data folder (default MMGRAPH_DATA)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    triples = wn18rr_triples(args.data).busiest(args.entities)
    encoder = resolve("minilm")
    fit_cached(encoder, [], cache=None, progress=False)
    features = torch.as_tensor(encode_cached(encoder, list(triples.entity_texts), cache=EmbeddingCache()))
    known_val = KnownTriples(triples.all_triples(["train", "val"]), num_entities=triples.num_entities,
                             num_relations=triples.num_relations)
    print(f"{triples!r}; {args.minutes:g} CPU-min per run, 1 thread; best filtered validation MRR (epoch)")
    print("| model | seed | " + " | ".join(LOSSES) + " |")
    print("|---|---|" + "---|" * len(LOSSES))
    for name, settings in MODELS.items():
        for seed in (int(s) for s in args.seeds.split(",")):
            cells = []
            for loss in LOSSES:
                model = KGModel(**settings, loss=loss, cpu_minutes=args.minutes, seed=seed)

                def validate(model: KGModel = model) -> float:
                    return evaluate_triples(model.score_tails, model.score_heads, triples["val"], known_val)["mrr"]

                model.fit(triples["train"], num_entities=triples.num_entities, num_relations=triples.num_relations,
                          features=features, validate=validate, progress=False)
                trained = model.trained_
                cells.append(f"{trained.best_score:.3f} ({trained.best_epoch} of {len(trained.history)})")
            print(f"| {name} | {seed} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
