"""WN18RR: WordNet synsets with their texts and the standard train/dev/test triples.

Reads ``wn18rr/entity2text.txt`` (``synset<TAB>lemma, gloss``) and
``wn18rr/{train,dev,test}.tsv`` (``head<TAB>relation<TAB>tail``) from the data folder.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mmgraph.data.dataset import DataError, MultimodalDataset
from mmgraph.datasets._paths import require

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
