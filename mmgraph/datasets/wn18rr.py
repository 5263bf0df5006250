"""WN18RR: WordNet synsets with their texts and the standard train/dev/test triples.

Reads ``wn18rr/entity2text.txt`` (``synset<TAB>lemma, gloss``) and
``wn18rr/{train,dev,test}.tsv`` (``head<TAB>relation<TAB>tail``) from the data folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import torch

from mmgraph.data.dataset import DataError, MultimodalDataset
from mmgraph.data.triples import Triples
from mmgraph.datasets._paths import data_root, require

ENTITY_TEXTS = "wn18rr/entity2text.txt"
SPLIT_FILES = {"train": "wn18rr/train.tsv", "val": "wn18rr/dev.tsv", "test": "wn18rr/test.tsv"}


def _read_tsv(path: Path, columns: int) -> list[list[str]]:
    """Splits every non-empty line on tabs (no quoting: glosses contain quotes)."""
    rows = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            line = line.rstrip("\r\n")
            if not line:
                continue
            fields = line.split("\t", columns - 1)
            if len(fields) != columns:
                raise DataError(
                    f"{str(path)!r} line {number} has {len(fields)} tab-separated fields; "
                    f"expected {columns}."
                )
            rows.append(fields)
    return rows


def load_wn18rr(root: Path) -> MultimodalDataset:
    """The 40,943 WN18RR entities (modality ``entity``) and their 92,994 triples between two entities.

    Each entity's text is its lemma and gloss as in KG-BERT's ``entity2text.txt``
    (``"stool, solid excretory product evacuated from the bowels"``). Links keep the
    relation names of the files (``"_hypernym"``) and the standard split in the column
    ``split``: ``train`` (86,828), ``val`` (dev.tsv, 3,032) and ``test`` (3,134, the standard test
    set whole); use ``split_dataset(..., mode="predefined")``. The files' nine triples that link an
    entity to itself (seven of train.tsv, two of dev.tsv) are left out: a link joins two samples.

    Args:
        root: the data folder.

    Returns:
        The dataset: ids ``entity:00260881``.
    """
    texts = _read_tsv(require(root, ENTITY_TEXTS, dataset="wn18rr"), 2)
    samples = pd.DataFrame(
        {
            "id": [f"entity:{synset}" for synset, _ in texts],
            "modality": "entity",
            "text": [text for _, text in texts],
            "synset": [synset for synset, _ in texts],
        }
    )
    links = []
    for part, relative in SPLIT_FILES.items():
        triples = _read_tsv(require(root, relative, dataset="wn18rr"), 3)
        table = pd.DataFrame(triples, columns=["src", "relation", "dst"])
        table["src"] = "entity:" + table["src"]
        table["dst"] = "entity:" + table["dst"]
        table["split"] = part
        table = table[table["src"] != table["dst"]]  # nine self-loops (train 7, dev 2): not links between samples
        links.append(table[["src", "dst", "relation", "split"]])
    return MultimodalDataset(samples, pd.concat(links, ignore_index=True), name="wn18rr")


def wn18rr_triples(root: str | os.PathLike | None = None, *, keep_self_loops: bool = True) -> Triples:
    """The WN18RR triples as ids, for knowledge-graph completion (mmgraph and PyKEEN read the same).

    Entities are the 40,943 synsets in the order of ``entity2text.txt`` (each with its lemma and
    gloss in ``entity_texts``), relations the 11 relation names sorted. Splits ``train`` (train.tsv),
    ``val`` (dev.tsv) and ``test`` (test.tsv) keep the files' order.

    Unlike :func:`load_wn18rr`, the nine triples that link an entity to itself (seven of train.tsv,
    two of dev.tsv, none of test.tsv) are kept by default: they are triples of the benchmark, which
    every published result and PyKEEN's own ``WN18RR`` train on, so here both libraries train on all
    86,835 train triples and filter with all 93,003.

    Args:
        root: the data folder; defaults to ``MMGRAPH_DATA``.
        keep_self_loops: keep the nine self-loops (``False`` drops them as :func:`load_wn18rr` does).

    Returns:
        The triples: train 86,835, val 3,034, test 3,134 (86,828 and 3,032 without self-loops).

    Raises:
        DataNotFoundError: if the files are not in the data folder.
        DataError: if a triple names an entity that ``entity2text.txt`` lacks.
    """
    folder = data_root(root)
    texts = _read_tsv(require(folder, ENTITY_TEXTS, dataset="wn18rr"), 2)
    entities = tuple(synset for synset, _ in texts)
    entity_id = {synset: i for i, synset in enumerate(entities)}
    rows = {part: _read_tsv(require(folder, relative, dataset="wn18rr"), 3) for part, relative in SPLIT_FILES.items()}
    relations = tuple(sorted({relation for part in rows.values() for _, relation, _ in part}))
    relation_id = {name: i for i, name in enumerate(relations)}
    splits = {}
    for part, triples in rows.items():
        if not keep_self_loops:
            triples = [(head, relation, tail) for head, relation, tail in triples if head != tail]
        missing = sorted({e for head, _, tail in triples for e in (head, tail)} - entity_id.keys())
        if missing:
            raise DataError(
                f"{SPLIT_FILES[part]!r} names {len(missing)} entities that {ENTITY_TEXTS!r} lacks "
                f"(the first is {missing[0]!r}). The WN18RR files are incomplete; copy them anew."
            )
        splits[part] = torch.tensor(
            [(entity_id[head], relation_id[relation], entity_id[tail]) for head, relation, tail in triples],
            dtype=torch.long,
        ).reshape(-1, 3)
    return Triples(entities, relations, splits, entity_texts=tuple(text for _, text in texts))
