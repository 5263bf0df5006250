"""Leak-proof splits of a dataset into train, validation and test.

A split assigns every sample to one of ``train``, ``val`` and ``test`` by *units*: samples
that must stay together (one item's samples; with ``mode="group"``, also one group's). A
link belongs to the most held-out split of its two ends, so a held-out sample never holds a
training link: a sample is a training sample exactly when the model may read it, and every
training link joins two training samples. In ``mode="partial"``, the samples of a held-out
unit that keep a link of a relation type not hidden stay training samples (they are in the
graph); in ``mode="predefined"``, a sample's part follows from its links.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from mmgraph.data.dataset import SPLIT_NAMES, DataError, MultimodalDataset
from mmgraph.errors import ConfigError
from mmgraph.typing import EdgeType

SplitMode = Literal["item", "group", "partial", "predefined"]
SPLIT_MODES: tuple[str, ...] = ("item", "group", "partial", "predefined")
_ORDER = {name: i for i, name in enumerate(SPLIT_NAMES)}


@dataclass(frozen=True, repr=False)
class DatasetSplit:
    """The outcome of :func:`split_dataset`.

    Attributes:
        dataset: the split dataset.
        mode: the split mode.
        sample_split: maps every sample id to ``"train"``, ``"val"`` or ``"test"``.
        link_split: the split of every row of ``dataset.links``, aligned with it.
        seed: the seed that drew the split.
        hide: the relation types hidden for held-out samples in ``mode="partial"``.
    """

    dataset: MultimodalDataset
    mode: str
    sample_split: pd.Series
    link_split: np.ndarray
    seed: int
    hide: tuple = field(default=())

    def links(self, part: str) -> pd.DataFrame:
        """The links of one part (``"train"``, ``"val"`` or ``"test"``)."""
        _check_part(part)
        return self.dataset.links[self.link_split == part]

    def sample_ids(self, part: str) -> np.ndarray:
        """The ids of the samples assigned to one part."""
        _check_part(part)
        return self.sample_split.index[self.sample_split.to_numpy() == part].to_numpy(dtype=object)

    def samples(self, part: str) -> pd.DataFrame:
        """The sample rows of one part."""
        _check_part(part)
        table = self.dataset.samples
        return table[table["id"].map(self.sample_split).to_numpy() == part]

    @property
    def train_links(self) -> pd.DataFrame:
        return self.links("train")

    @property
    def val_links(self) -> pd.DataFrame:
        return self.links("val")

    @property
    def test_links(self) -> pd.DataFrame:
        return self.links("test")

    def __repr__(self) -> str:
        samples = self.sample_split.value_counts()
        links = pd.Series(self.link_split).value_counts()
        parts = ", ".join(
            f"{p}={int(samples.get(p, 0))}/{int(links.get(p, 0))}" for p in SPLIT_NAMES
        )
        return (
            f"DatasetSplit(dataset={self.dataset.name!r}, mode={self.mode!r}, seed={self.seed}, "
            f"samples/links: {parts})"
        )


def _check_part(part: str) -> None:
    if part not in SPLIT_NAMES:
        raise ConfigError(f"The part must be one of {SPLIT_NAMES}. Got {part!r} instead.")


def _units(samples: pd.DataFrame, *, by_group: bool) -> np.ndarray:
    """Labels every sample with its unit: the connected component of shared items (and groups).

    Shapes:
        return: ``(num_samples,)`` int64 unit ids.
    """
    n = len(samples)
    parent = np.arange(n)

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    columns = ["item", "group"] if by_group else ["item"]
    for column in columns:
        first: dict[str, int] = {}
        for i, key in enumerate(samples[column]):
            if key is None:
                continue
            key = f"{column}:{key}"
            if key in first:
                a, b = find(i), find(first[key])
                if a != b:
                    parent[max(a, b)] = min(a, b)
            else:
                first[key] = i
    return np.array([find(i) for i in range(n)], dtype=np.int64)


def _matches(edge_type: EdgeType, spec: tuple) -> bool:
    """Whether a link of ``edge_type`` matches one ``hide`` entry (see :func:`split_dataset`)."""
    src, relation, dst = edge_type
    if len(spec) == 1:
        return spec[0] in (src, dst)
    if len(spec) == 2:
        return {src, dst} == set(spec) if spec[0] != spec[1] else src == dst == spec[0]
    return edge_type == spec or edge_type == (spec[2], spec[1], spec[0])


def _normalise_hide(hide: Iterable | None, dataset: MultimodalDataset) -> tuple[tuple, ...]:
    if hide is None:
        return ()
    specs = []
    for entry in hide:
        spec = (entry,) if isinstance(entry, str) else tuple(entry)
        if len(spec) not in (1, 2, 3):
            raise DataError(
                f"Each entry of 'hide' must be a modality name, a pair of modalities or an edge "
                f"type (src, relation, dst). Got {entry!r} instead."
            )
        for modality in (spec[0], spec[-1]):
            if modality not in dataset.modalities:
                raise DataError(
                    f"The 'hide' entry {entry!r} names the modality {modality!r}, which the dataset "
                    f"{dataset.name!r} does not have. Modalities: {dataset.modalities}."
                )
        specs.append(spec)
    return tuple(specs)


def split_dataset(
    dataset: MultimodalDataset,
    *,
    mode: SplitMode = "item",
    val: float = 0.1,
    test: float = 0.2,
    seed: int = 0,
    hide: Sequence | None = None,
) -> DatasetSplit:
    """Splits a dataset into train, validation and test without leakage.

    Modes:
        ``"item"``: cold start. Samples sharing an item form a unit; a held-out unit keeps no
        known link at all, so it reaches the graph only through feature similarity.
        ``"group"``: as ``"item"``, but units also join samples of one ``group`` (one speaker,
        one base emoji): no group straddles two splits.
        ``"partial"``: units as in ``"group"``; a held-out unit's links of the relation types
        in ``hide`` are held out, and its other links stay in training, so the samples that
        keep such a link are training samples (the held-out ones are those left with no link).
        ``"predefined"``: the links table's ``split`` column decides; a sample holding a
        training link (or no link) is a training sample, any other takes the first held-out
        part among its links (``"val"`` before ``"test"``).

    Args:
        dataset: the dataset to split.
        mode: one of the modes above.
        val: fraction of units for validation.
        test: fraction of units for testing.
        seed: seed of the random assignment.
        hide: for ``mode="partial"``, the relation types to hide: each a modality name (every
            link touching it), a pair of modalities (links between them, either direction) or
            an edge type ``(src, relation, dst)``.

    Returns:
        The split.

    Raises:
        DataError: for fractions outside ``[0, 1)``, too few units, or a ``hide`` naming an
            unknown modality.

    Example:
        >>> from mmgraph.datasets import load
        >>> split = split_dataset(load("synthetic", num_items=50), mode="item", seed=0)
        >>> set(split.test_links["src"]).isdisjoint(split.train_links["src"])
        True
    """
    if mode not in SPLIT_MODES:
        raise DataError(
            f"The 'mode' parameter of split_dataset must be one of {SPLIT_MODES}. Got {mode!r} instead."
        )
    for name, value in (("val", val), ("test", test)):
        if not isinstance(value, int | float) or not 0 <= value < 1:
            raise DataError(
                f"The {name!r} parameter of split_dataset must be a fraction in [0, 1). "
                f"Got {value!r} instead."
            )
    if val + test >= 1:
        raise DataError(f"val + test must leave room for training. Got val={val} and test={test}.")
    if mode == "partial" and not hide:
        raise DataError(
            "mode='partial' needs 'hide': the relation types a held-out sample loses, for example "
            "hide=['text_en'] or hide=[('image', 'text_en')]."
        )
    if mode != "partial" and hide:
        raise DataError(f"'hide' only applies to mode='partial'. Got mode={mode!r}.")
    hide_specs = _normalise_hide(hide, dataset)
    samples, links = dataset.samples, dataset.links

    if mode == "predefined":
        if "split" not in links.columns or links["split"].isna().any():
            raise DataError(
                f"mode='predefined' needs a 'split' value on every link; the dataset "
                f"{dataset.name!r} has none or some missing. Use mode='item' or 'group' instead."
            )
        link_split = links["split"].to_numpy(dtype=object)
        bad = sorted(set(link_split) - set(SPLIT_NAMES))
        if bad:
            raise DataError(
                f"The 'split' column of the links of {dataset.name!r} must hold {SPLIT_NAMES}. "
                f"Got {bad} instead."
            )
        ends = pd.DataFrame({
            "id": np.concatenate([links["src"].to_numpy(dtype=object), links["dst"].to_numpy(dtype=object)]),
            "order": np.tile([_ORDER[p] for p in link_split], 2),
        })
        first = ends.groupby("id")["order"].min()  # train (0) if any training link
        parts = [SPLIT_NAMES[int(first.get(i, 0))] for i in samples["id"]]
        sample_split = pd.Series(parts, index=samples["id"].to_numpy(), dtype=object)
        return DatasetSplit(dataset, mode, sample_split, link_split, seed)

    units = _units(samples, by_group=mode in ("group", "partial"))
    unit_part = _assign_units(units, samples["modality"].to_numpy(), val=val, test=test, seed=seed)
    counts = {part: sum(1 for p in unit_part.values() if p == part) for part in ("val", "test")}
    num_units = len(np.unique(units))
    if (test > 0 and counts["test"] == 0) or (val > 0 and counts["val"] == 0):
        raise DataError(
            f"The dataset {dataset.name!r} has {num_units} split units, too few for val={val} "
            f"and test={test}. Use larger fractions or more data."
        )
    if counts["test"] + counts["val"] >= num_units:
        raise DataError(
            f"The dataset {dataset.name!r} has {num_units} split units; val={val} and "
            f"test={test} take {counts['val']} and {counts['test']} of them and leave none for training. "
            "Use smaller fractions or more data."
        )
    parts = np.array([unit_part.get(int(u), "train") for u in units], dtype=object)
    sample_split = pd.Series(parts, index=samples["id"].to_numpy(), dtype=object)

    src_part = links["src"].map(sample_split).to_numpy(dtype=object)
    dst_part = links["dst"].map(sample_split).to_numpy(dtype=object)
    link_split = np.array(
        [a if _ORDER[a] >= _ORDER[b] else b for a, b in zip(src_part, dst_part, strict=True)],
        dtype=object,
    )
    if mode == "partial":
        edge_types = dataset.link_edge_types(links)
        kept = np.array([not any(_matches(t, s) for s in hide_specs) for t in edge_types], dtype=bool)
        link_split = np.where(kept, "train", link_split).astype(object)
        # A sample that keeps a link is in the graph: a training sample.
        keeps = set(links["src"][kept]) | set(links["dst"][kept])
        sample_split = pd.Series(
            np.where(sample_split.index.isin(list(keeps)), "train", sample_split.to_numpy()).astype(object),
            index=sample_split.index, dtype=object,
        )
    return DatasetSplit(dataset, mode, sample_split, link_split, seed, hide_specs)


def _assign_units(units: np.ndarray, modalities: np.ndarray, *, val: float, test: float, seed: int) -> dict[int, str]:
    """Draws the held-out units, in each stratum of units holding the same set of modalities.

    Stratifying keeps the fractions true for every kind of unit: 6 speakers' clips and 10,000
    single images each give their own share of validation and test units, instead of the
    images filling the held-out shares by their number. A stratum of at least three units
    gives at least one unit to each non-empty held-out part.
    """
    kinds = pd.Series(modalities).groupby(units).agg(lambda m: "|".join(sorted(set(m))))
    rng = np.random.default_rng(seed)
    unit_part: dict[int, str] = {}
    for kind in sorted(set(kinds)):
        order = rng.permutation(kinds.index[kinds == kind].to_numpy())
        num_test, num_val = int(round(test * len(order))), int(round(val * len(order)))
        if len(order) >= 3:
            num_test, num_val = max(num_test, int(test > 0)), max(num_val, int(val > 0))
        unit_part.update({int(u): "test" for u in order[:num_test]})
        unit_part.update({int(u): "val" for u in order[num_test : num_test + num_val]})
    return unit_part
