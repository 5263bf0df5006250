"""Knowledge-graph triples: entity and relation names and ``(head, relation, tail)`` ids per split."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor

from mmgraph.checks import check_positive_int
from mmgraph.errors import DataError

TRIPLE_COLUMNS: tuple[str, str, str] = ("head", "relation", "tail")
"""The columns of a split's ``(n, 3)`` tensor, in order (PyKEEN's ``mapped_triples`` layout)."""


@dataclass(frozen=True)
class Triples:
    """The triples of a knowledge graph, split, over fixed entity and relation ids.

    Entity ``i`` is ``entities[i]``, relation ``j`` is ``relations[j]``; every split is an
    ``(n, 3)`` long tensor of ``[head, relation, tail]`` rows, the layout PyKEEN calls
    ``mapped_triples``, so both libraries read the very same ids.

    Attributes:
        entities: the entity names (WN18RR: synset ids such as ``"00260881"``).
        relations: the relation names (``"_hypernym"``).
        splits: split name (``"train"``, ``"val"``, ``"test"``) to its triples.
        entity_texts: optional text of every entity, in the order of ``entities``.

    Shapes:
        splits[name]: ``(n, 3)`` long.

    Example:
        >>> triples = Triples(("a", "b", "c"), ("r",), {"train": torch.tensor([[0, 0, 1]]),
        ...                                             "test": torch.tensor([[1, 0, 2]])})
        >>> triples
        Triples(num_entities=3, num_relations=1, train=1, test=1)
        >>> triples.seen_in_train("test").tolist()
        [False]
    """

    entities: tuple[str, ...]
    relations: tuple[str, ...]
    splits: Mapping[str, Tensor]
    entity_texts: tuple[str, ...] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        for name, rows in self.splits.items():
            check_triples(rows, f"splits[{name!r}]", "Triples", self.num_entities, self.num_relations, exact=True)
        if self.entity_texts is not None and len(self.entity_texts) != self.num_entities:
            raise DataError(
                f"Triples got {len(self.entity_texts)} entity texts for {self.num_entities} entities. "
                "Give one text per entity, in the order of 'entities', or none."
            )

    @property
    def num_entities(self) -> int:
        return len(self.entities)

    @property
    def num_relations(self) -> int:
        return len(self.relations)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{name}={len(rows)}" for name, rows in self.splits.items())
        return f"Triples(num_entities={self.num_entities}, num_relations={self.num_relations}, {sizes})"

    def __getitem__(self, split: str) -> Tensor:
        """The ``(n, 3)`` triples of one split."""
        if split not in self.splits:
            raise DataError(f"Triples has no split {split!r}. Its splits: {list(self.splits)}.")
        return self.splits[split]

    def fingerprint(self) -> str:
        """A stable hash of the entities (names and texts), the relations and every split's triples.

        Returns:
            ``"sha256:<64 hex digits>"``.
        """
        digest = hashlib.sha256()
        digest.update(json.dumps([self.entities, self.relations, self.entity_texts], ensure_ascii=False).encode())
        for name, rows in sorted(self.splits.items()):
            digest.update(name.encode())
            digest.update(rows.contiguous().numpy().tobytes())
        return f"sha256:{digest.hexdigest()}"

    def all_triples(self, splits: Sequence[str] | None = None) -> Tensor:
        """The triples of the given splits (default all) stacked, ``(n, 3)``; the filter set of ranking."""
        return torch.cat([self[name] for name in (self.splits if splits is None else splits)])

    def entities_of(self, split: str) -> Tensor:
        """``True`` for every entity that is the head or tail of a triple of ``split``, ``(num_entities,)``."""
        rows = self[split]
        seen = torch.zeros(self.num_entities, dtype=torch.bool)
        seen[rows[:, 0]] = True
        seen[rows[:, 2]] = True
        return seen

    def seen_in_train(self, split: str, *, train: str = "train") -> Tensor:
        """``True`` for the triples of ``split`` whose head and tail both occur in a ``train`` triple.

        A model that learns from structure alone knows nothing of any other entity; the others are
        the triples only a model that reads the entity (its text) can answer.

        Shapes:
            returns ``(len(self[split]),)`` bool.
        """
        known = self.entities_of(train)
        rows = self[split]
        return known[rows[:, 0]] & known[rows[:, 2]]

    def busiest(self, num_entities: int, *, train: str = "train") -> Triples:
        """A slice: the ``num_entities`` entities with the most ``train`` triples (ties: lower id
        first), renumbered in their original order, and every triple of every split among them.

        Small real graphs for tests and quick trials (WN18RR's 2,000 busiest entities hold 3,087
        train, 69 val and 79 test triples).

        Example:
            >>> triples = Triples(("a", "b", "c"), ("r",), {"train": torch.tensor([[0, 0, 1], [1, 0, 2]]),
            ...                                             "test": torch.tensor([[0, 0, 2]])})
            >>> sliced = triples.busiest(2)
            >>> sliced.entities, sliced["train"].tolist(), sliced["test"].tolist()
            (('a', 'b'), [[0, 0, 1]], [])
        """
        check_positive_int(num_entities, "num_entities", "Triples.busiest")
        rows = self[train]
        degree = torch.bincount(torch.cat([rows[:, 0], rows[:, 2]]), minlength=self.num_entities)
        order = torch.sort(-degree, stable=True).indices  # busiest first, ties by id
        keep = order[:num_entities].sort().values
        new_id = torch.full((self.num_entities,), -1, dtype=torch.long)
        new_id[keep] = torch.arange(len(keep))
        splits = {}
        for name, part in self.splits.items():
            part = part[(new_id[part[:, 0]] >= 0) & (new_id[part[:, 2]] >= 0)]
            splits[name] = torch.stack([new_id[part[:, 0]], part[:, 1], new_id[part[:, 2]]], 1)
        texts = None if self.entity_texts is None else tuple(self.entity_texts[i] for i in keep.tolist())
        return Triples(tuple(self.entities[i] for i in keep.tolist()), self.relations, splits, entity_texts=texts)


def check_triples(
    triples: object, name: str, where: str, num_entities: int, num_relations: int, *, exact: bool = False
) -> Tensor:
    """``triples`` as a long ``(n, 3)`` tensor of ids in range, or a :class:`DataError` naming the fault.

    Args:
        triples: the rows ``[head, relation, tail]``.
        name: what the caller calls them, for the message (``"test"``).
        where: the function or class that checks (``"triple_ranks"``).
        num_entities: entity ids must be below it.
        num_relations: relation ids must be below it.
        exact: require dtype ``torch.long`` (a stored record) rather than any integer dtype.
    """
    integer = isinstance(triples, Tensor) and not (triples.is_floating_point() or triples.dtype == torch.bool)
    if (
        not integer
        or triples.dim() != 2  # type: ignore[union-attr]
        or triples.shape[1] != 3  # type: ignore[union-attr]
        or (exact and triples.dtype != torch.long)  # type: ignore[union-attr]
    ):
        found = f"{tuple(triples.shape)} {triples.dtype}" if isinstance(triples, Tensor) else type(triples).__name__
        kind = "a long" if exact else "an integer"
        raise DataError(
            f"The '{name}' argument of {where} must be {kind} tensor of shape (n, 3) holding "
            f"{list(TRIPLE_COLUMNS)} ids. Got {found} instead."
        )
    triples = triples.long()  # type: ignore[union-attr]
    for column, upper in ((0, num_entities), (1, num_relations), (2, num_entities)):
        bad = (triples[:, column] < 0) | (triples[:, column] >= upper)
        if bad.any():
            raise DataError(
                f"The '{name}' argument of {where} has {int(bad.sum())} {TRIPLE_COLUMNS[column]} ids outside "
                f"[0, {upper}) (the first in row {int(bad.nonzero()[0, 0])}). Ids index the entities and the "
                "relations: check num_entities and num_relations."
            )
    return triples


@dataclass(frozen=True)
class ColdEntities:
    """A cold-entity split of a knowledge graph: some entities are held out with every triple that
    touches them, and come back at test time as new samples (their text only).

    A cold triple joins one held-out entity and one known entity; it is asked from the held-out
    end (the query is the new entity, its partner is ranked among the known entities): as a tail
    question ``(new, r, ?)`` when the new entity is the head, as a head question ``(?, r, new)``
    when it is the tail. Triples between two held-out entities are asked of no one.

    Attributes:
        triples: the entities and relations of the source, with splits ``train`` (the source's
            training triples between known entities), ``val`` and ``test`` (the cold triples of
            the validation and the test entities, taken from every split of the source).
        known: ``True`` for every entity that is not held out, ``(num_entities,)``: the
            candidates of every question, and the only entities a model may learn from.
        new: split name (``"val"``, ``"test"``) to ``True`` for its held-out entities.
        dropped: the source triples in no split here (between two held-out entities, or
            between a held-out entity and one of the other held-out split).
    """

    triples: Triples
    known: Tensor
    new: Mapping[str, Tensor]
    dropped: int

    def __repr__(self) -> str:
        sizes = ", ".join(f"{name}={len(rows)}" for name, rows in self.triples.splits.items())
        new = ", ".join(f"{name}_entities={int(mask.sum())}" for name, mask in self.new.items())
        return f"ColdEntities(known={int(self.known.sum())}, {new}, {sizes}, dropped={self.dropped})"

    def query_is_head(self, split: str) -> Tensor:
        """``True`` for the triples of ``split`` asked as tail questions (the head is the new
        entity), ``False`` for head questions, ``(n,)`` bool."""
        return self.new[split][self.triples[split][:, 0]]


def cold_entity_split(
    triples: Triples, *, fraction: float = 0.1, val_fraction: float = 0.05, seed: int = 0
) -> ColdEntities:
    """Holds out a seeded ``fraction`` of the entities for test and ``val_fraction`` for validation,
    each with every triple that touches it.

    The held-out entities are drawn from all entities with one seeded permutation (the same
    ``seed`` gives the same split everywhere, for every model). Training keeps the source's
    ``train`` triples between known entities; the cold triples of a held-out entity come from all
    of the source's splits (its links were never seen, whichever file holds them).

    Args:
        triples: the source knowledge graph (its splits ``train``, and any others).
        fraction: share of the entities held out for the test questions.
        val_fraction: share held out for the validation questions (model selection).
        seed: the seed of the draw.

    Example:
        >>> rows = torch.tensor([[0, 0, 1], [1, 0, 2], [2, 0, 3], [3, 0, 0]])
        >>> source = Triples(tuple("abcd"), ("r",), {"train": rows})
        >>> cold = cold_entity_split(source, fraction=0.25, val_fraction=0.0, seed=0)
        >>> int(cold.new["test"].sum()), len(cold.triples["test"]), len(cold.triples["train"])
        (1, 2, 2)
    """
    for name, value in (("fraction", fraction), ("val_fraction", val_fraction)):
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value < 1:
            raise DataError(
                f"cold_entity_split's '{name}' is the share of entities held out, in [0, 1). Got {value!r} instead."
            )
    if fraction <= 0 or fraction + val_fraction >= 1:
        raise DataError(
            f"cold_entity_split needs a test share above 0 and shares summing below 1. Got fraction={fraction} "
            f"and val_fraction={val_fraction}."
        )
    num = triples.num_entities
    order = torch.randperm(num, generator=torch.Generator().manual_seed(seed))
    num_test, num_val = round(fraction * num), round(val_fraction * num)
    new = {"val": torch.zeros(num, dtype=torch.bool), "test": torch.zeros(num, dtype=torch.bool)}
    new["test"][order[:num_test]] = True
    new["val"][order[num_test:num_test + num_val]] = True
    known = ~(new["val"] | new["test"])
    source = triples.all_triples()
    train = triples["train"]
    splits = {"train": train[known[train[:, 0]] & known[train[:, 2]]]}
    for part in ("val", "test"):
        head_new, tail_new = new[part][source[:, 0]], new[part][source[:, 2]]
        splits[part] = source[(head_new & known[source[:, 2]]) | (tail_new & known[source[:, 0]])]
    touching = ~(known[source[:, 0]] & known[source[:, 2]])
    dropped = int(touching.sum()) - len(splits["val"]) - len(splits["test"])
    cold = Triples(triples.entities, triples.relations, splits, entity_texts=triples.entity_texts)
    return ColdEntities(cold, known, new, dropped)


@dataclass(frozen=True)
class TripleView:
    """What a knowledge-graph model's ``fit`` may read: the training triples and every entity's
    features; the validation triples reach it only through the validation callback, the test
    triples never (the ``kg`` counterpart of :class:`mmgraph.data.prepared.TrainView`).

    Every entity, also one of no training triple, is a candidate answer and has its features
    (the standard protocol: entity ids from all files).

    Attributes:
        task: the task's name.
        train: the training triples, ``(E, 3)``.
        num_entities: ``N``.
        num_relations: ``R``.
        features: the entities' features (their texts encoded), ``(N, feature_dim)``; None if not encoded.
        kind: ``"kg"``, the task kind (models check it as they check a TrainView's).
    """

    task: str
    train: Tensor = field(repr=False)
    num_entities: int
    num_relations: int
    features: Tensor | None = field(default=None, repr=False)
    kind: str = "kg"
