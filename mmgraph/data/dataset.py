"""The in-memory form of a multimodal dataset: samples, known links and optional features."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from mmgraph.errors import DataError, DataNotFoundError
from mmgraph.typing import EdgeType, NodeType

SAMPLE_COLUMNS: tuple[str, ...] = ("id", "modality", "path", "text", "item", "label", "group")
"""The columns every samples table has (optional ones hold ``None`` where unknown)."""

LINK_COLUMNS: tuple[str, ...] = ("src", "dst", "relation")
"""The columns every links table has; an optional ``split`` column fixes a link's split."""

ITEM_RELATION = "same_item"
"""The relation name of the links implied by a shared ``item``."""

SPLIT_NAMES: tuple[str, ...] = ("train", "val", "test")

MISSING_SHOWN = 10
"""How many samples without a payload :meth:`MultimodalDataset.validate` names (then: "and N more")."""


def _clean_str(value: object) -> str | None:
    """Returns ``value`` as a stripped string, or ``None`` for missing or blank values."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    text = str(value).strip()
    return text or None


def _row(i: int, sample_id: object = None) -> str:
    return f"row {i + 1}" + (f" (id {sample_id!r})" if sample_id is not None else "")


class MultimodalDataset:
    """Samples of several modalities and the known links between them.

    Every sample is one row of :attr:`samples` and becomes one node of the graph, with its
    ``modality`` as node type. Samples that share an ``item`` are linked across modalities
    (relation ``"same_item"``); :attr:`links` holds those links and any explicit ones.

    Args:
        samples: one row per sample with the columns ``id``, ``modality`` and a payload:
            ``path`` (a file) or ``text`` (inline text); optionally ``item``, ``label`` and
            ``group``. Further columns are kept as metadata.
        links: optional explicit links with columns ``src``, ``dst``, ``relation`` (sample ids)
            and optionally ``split`` (``"train"``, ``"val"`` or ``"test"``) for a fixed split.
        name: a short name shown in summaries and results.
        features: optional precomputed features per modality, ``(num_samples_of_modality, dim)``
            in the order of :meth:`node_ids`; a modality with features needs no payload.

    Example:
        >>> import pandas as pd
        >>> samples = pd.DataFrame({
        ...     "id": ["a", "b"], "modality": ["text_en", "text_fr"],
        ...     "text": ["cat", "chat"], "item": ["cat", "cat"]})
        >>> MultimodalDataset(samples, name="tiny").links
          src dst   relation
        0   a   b  same_item
    """

    def __init__(
        self,
        samples: pd.DataFrame,
        links: pd.DataFrame | None = None,
        *,
        name: str = "custom",
        features: Mapping[NodeType, np.ndarray] | None = None,
    ) -> None:
        self.name = name
        self.features: dict[NodeType, np.ndarray] = {
            modality: np.asarray(array, dtype=np.float32) for modality, array in (features or {}).items()
        }
        self.samples = self._normalise_samples(samples)
        explicit = self._normalise_links(links)
        # Explicit links first, so that row i of the links table is row i here (error messages).
        self.links = pd.concat([explicit, self._item_links()], ignore_index=True)
        if "split" in self.links.columns:  # links implied by items have no fixed split
            self.links["split"] = [_clean_str(v) for v in self.links["split"]]
        self.validate()

    # ------------------------------------------------------------------ construction
    @staticmethod
    def _normalise_samples(samples: pd.DataFrame) -> pd.DataFrame:
        if not isinstance(samples, pd.DataFrame):
            raise DataError(
                f"samples must be a pandas DataFrame. Got {type(samples).__name__} instead."
            )
        missing = [c for c in ("id", "modality") if c not in samples.columns]
        if missing:
            raise DataError(
                f"The samples table has no column {missing}. It needs 'id' and 'modality', and "
                f"'path' or 'text'; found columns {list(samples.columns)}."
            )
        table = samples.reset_index(drop=True).copy()
        for column in SAMPLE_COLUMNS:
            if column not in table.columns:
                table[column] = None
            table[column] = pd.Series(
                [_clean_str(v) for v in table[column]], index=table.index, dtype=object
            )
        extra = [c for c in table.columns if c not in SAMPLE_COLUMNS]
        return table[list(SAMPLE_COLUMNS) + extra]

    @staticmethod
    def _normalise_links(links: pd.DataFrame | None) -> pd.DataFrame:
        if links is None:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in LINK_COLUMNS})
        missing = [c for c in ("src", "dst") if c not in links.columns]
        if missing:
            raise DataError(
                f"The links table has no column {missing}. It needs 'src' and 'dst' (sample ids) "
                f"and optionally 'relation' and 'split'; found columns {list(links.columns)}."
            )
        table = links.reset_index(drop=True).copy()
        if "relation" not in table.columns:
            table["relation"] = "link"
        for column in LINK_COLUMNS:
            table[column] = [_clean_str(v) for v in table[column]]
        table["relation"] = table["relation"].fillna("link")
        columns = list(LINK_COLUMNS) + (["split"] if "split" in table.columns else [])
        return table[columns]

    def _item_links(self) -> pd.DataFrame:
        """Links between samples of different modalities that share an ``item``."""
        order = {m: i for i, m in enumerate(self.modalities)}
        with_item = self.samples.loc[self.samples["item"].notna(), ["id", "modality", "item"]]
        pairs = with_item.merge(with_item, on="item", suffixes=("_src", "_dst"))
        rank_src = pairs["modality_src"].map(order)
        rank_dst = pairs["modality_dst"].map(order)
        pairs = pairs[rank_src < rank_dst]
        return pd.DataFrame(
            {
                "src": pairs["id_src"].to_numpy(dtype=object),
                "dst": pairs["id_dst"].to_numpy(dtype=object),
                "relation": ITEM_RELATION,
            }
        )

    # ------------------------------------------------------------------ validation
    def validate(self, *, check_files: bool = False) -> MultimodalDataset:
        """Checks the dataset and raises :class:`DataError` naming the first bad row.

        Args:
            check_files: also check that every ``path`` is a readable file.

        Returns:
            The dataset itself, so that calls can be chained.
        """
        samples = self.samples
        for i, (sample_id, modality) in enumerate(zip(samples["id"], samples["modality"], strict=True)):
            if sample_id is None:
                raise DataError(
                    f"The samples table has an empty 'id' at {_row(i)}. Give every sample a unique id."
                )
            if modality is None:
                raise DataError(
                    f"The samples table has an empty 'modality' at {_row(i, sample_id)}. "
                    "Name the modality of every sample (for example 'image' or 'text_en')."
                )
        duplicated = samples["id"].duplicated(keep="first")
        if duplicated.any():
            i = int(np.flatnonzero(duplicated.to_numpy())[0])
            first = int(np.flatnonzero((samples["id"] == samples["id"][i]).to_numpy())[0])
            raise DataError(
                f"The sample id {samples['id'][i]!r} at {_row(i)} is a duplicate of {_row(first)}. "
                "Sample ids must be unique."
            )
        for modality in self.features:
            if modality not in self.modalities:
                raise DataError(
                    f"Features were given for modality {modality!r}, which has no samples. "
                    f"Modalities: {self.modalities}."
                )
            expected = int((samples["modality"] == modality).sum())
            array = self.features[modality]
            if array.ndim != 2 or array.shape[0] != expected:
                raise DataError(
                    f"The features of modality {modality!r} have shape {array.shape}; expected "
                    f"({expected}, dim), one row per sample of that modality in table order."
                )
            if not np.isfinite(array).all():
                row = int(np.flatnonzero(~np.isfinite(array).all(axis=1))[0])
                raise DataError(
                    f"The features of modality {modality!r} contain NaN or infinite values (the first in row {row}, "
                    f"sample {self.node_ids(modality)[row]!r}). Clean or impute them first."
                )
            check_informative(array, f"The features of modality {modality!r}")
        rows = list(enumerate(samples[["id", "modality", "path", "text"]].itertuples(index=False)))
        # a blank text reads as no text (_clean_str): an empty payload would be encoded as if it meant something
        missing = [
            _row(i, r.id) for i, r in rows if r.path is None and r.text is None and r.modality not in self.features
        ]
        if missing:
            shown = ", ".join(missing[:MISSING_SHOWN]) + (
                f" and {len(missing) - MISSING_SHOWN} more" if len(missing) > MISSING_SHOWN else ""
            )
            raise DataError(
                f"The sample{'s' if len(missing) > 1 else ''} at {shown} "
                f"{'have' if len(missing) > 1 else 'has'} neither 'path' nor 'text' (an empty or blank text is "
                "no text). Give a file path or an inline text for every sample, or drop those rows."
            )
        for i, row in rows:
            if row.path is not None and row.text is not None:
                raise DataError(
                    f"The sample at {_row(i, row.id)} has both 'path' and 'text'. Give one payload."
                )
            if check_files and row.path is not None:
                _check_readable(row.path, f"The file of the sample at {_row(i, row.id)}")
        known = set(samples["id"])
        for column in ("src", "dst"):
            unknown = ~self.links[column].isin(known)
            if unknown.any():
                i = int(np.flatnonzero(unknown.to_numpy())[0])
                raise DataError(
                    f"The link at row {i + 1} of the links table ({self.links['src'][i]!r} -> "
                    f"{self.links['dst'][i]!r}) has the "
                    f"{column} {self.links[column][i]!r}, which is no sample id. Every link must "
                    "join two samples of the samples table."
                )
        self._check_link_pairs()
        if "split" in self.links.columns:
            bad = ~self.links["split"].isin(SPLIT_NAMES) & self.links["split"].notna()
            if bad.any():
                i = int(np.flatnonzero(bad.to_numpy())[0])
                raise DataError(
                    f"The link at row {i + 1} of the links table has split "
                    f"{self.links['split'][i]!r}; expected one of {SPLIT_NAMES}."
                )
        return self

    def _check_link_pairs(self) -> None:
        """Rejects a link from a sample to itself, a link listed twice, and a ``same_item`` link
        inside one modality (samples of one modality that share an item are not linked)."""
        links = self.links
        own = links["src"] == links["dst"]
        if own.any():
            i = int(np.flatnonzero(own.to_numpy())[0])
            raise DataError(
                f"The link at row {i + 1} of the links table joins the sample {links['src'][i]!r} to itself "
                f"(relation {links['relation'][i]!r}). A link joins two different samples; remove the row."
            )
        twice = links.duplicated(["src", "dst", "relation"], keep="first")
        if twice.any():
            i = int(np.flatnonzero(twice.to_numpy())[0])
            same = (links["src"] == links["src"][i]) & (links["dst"] == links["dst"][i])
            first = int(np.flatnonzero((same & (links["relation"] == links["relation"][i])).to_numpy())[0])
            implied = " (implied by their shared 'item')" if links["relation"][i] == ITEM_RELATION else ""
            raise DataError(
                f"The link at row {i + 1} of the links table ({links['src'][i]!r} -> {links['dst'][i]!r}, relation "
                f"{links['relation'][i]!r}) repeats the link at row {first + 1}{implied}. List each link once."
            )
        modality = dict(zip(self.samples["id"], self.samples["modality"], strict=True))
        inside = (links["relation"] == ITEM_RELATION) & (links["src"].map(modality) == links["dst"].map(modality))
        if inside.any():
            i = int(np.flatnonzero(inside.to_numpy())[0])
            raise DataError(
                f"The link at row {i + 1} of the links table has the relation {ITEM_RELATION!r} between two "
                f"{modality[links['src'][i]]!r} samples ({links['src'][i]!r} -> {links['dst'][i]!r}); that relation "
                "joins an item's samples across modalities. Give the link another relation name."
            )

    # ------------------------------------------------------------------ access
    @property
    def modalities(self) -> list[NodeType]:
        """Modality names in order of first appearance."""
        return list(pd.unique(self.samples["modality"]))

    def modality_samples(self, modality: NodeType) -> pd.DataFrame:
        """The rows of one modality, in node order."""
        self._check_modality(modality)
        return self.samples[self.samples["modality"] == modality]

    def node_ids(self, modality: NodeType) -> np.ndarray:
        """Sample ids of one modality; position ``i`` is node ``i`` of that node type."""
        return self.modality_samples(modality)["id"].to_numpy(dtype=object)

    def payloads(self, modality: NodeType) -> list[str]:
        """The path or text of every sample of ``modality``, in node order."""
        rows = self.modality_samples(modality)
        return [p if p is not None else t for p, t in zip(rows["path"], rows["text"], strict=True)]

    def node_index(self) -> dict[str, tuple[NodeType, int]]:
        """Maps every sample id to its ``(node type, index within that node type)``."""
        index: dict[str, tuple[NodeType, int]] = {}
        for modality in self.modalities:
            for i, sample_id in enumerate(self.node_ids(modality)):
                index[sample_id] = (modality, i)
        return index

    def edge_types(self, links: pd.DataFrame | None = None) -> list[EdgeType]:
        """The distinct ``(src modality, relation, dst modality)`` of ``links`` (default: all)."""
        return sorted(set(self.link_edge_types(self.links if links is None else links)))

    def link_edge_types(self, links: pd.DataFrame) -> list[EdgeType]:
        """The edge type of every row of ``links``."""
        modality = dict(zip(self.samples["id"], self.samples["modality"], strict=True))
        return [
            (modality[s], r, modality[d])
            for s, r, d in zip(links["src"], links["relation"], links["dst"], strict=True)
        ]

    def links_by_type(self, links: pd.DataFrame | None = None) -> dict[EdgeType, np.ndarray]:
        """Groups ``links`` (default: all) by edge type, as node indices.

        Shapes:
            each value: ``(2, num_links_of_type)``, int64; row 0 indexes source nodes of the
            source modality, row 1 target nodes of the target modality.
        """
        links = self.links if links is None else links
        index = self.node_index()
        grouped: dict[EdgeType, list[tuple[int, int]]] = {}
        for (src, dst), edge_type in zip(
            zip(links["src"], links["dst"], strict=True), self.link_edge_types(links), strict=True
        ):
            grouped.setdefault(edge_type, []).append((index[src][1], index[dst][1]))
        return {
            edge_type: np.asarray(pairs, dtype=np.int64).reshape(-1, 2).T
            for edge_type, pairs in sorted(grouped.items())
        }

    def labels(self, modality: NodeType) -> np.ndarray:
        """Labels of one modality in node order (``None`` where unknown)."""
        return self.modality_samples(modality)["label"].to_numpy(dtype=object)

    def subset(self, modalities: Sequence[NodeType]) -> MultimodalDataset:
        """A dataset with only the samples (and links among them) of ``modalities``."""
        for modality in modalities:
            self._check_modality(modality)
        keep = self.samples["modality"].isin(modalities)
        ids = set(self.samples.loc[keep, "id"])
        explicit = self.links[self.links["relation"] != ITEM_RELATION]
        explicit = explicit[explicit["src"].isin(ids) & explicit["dst"].isin(ids)]
        features = {m: a for m, a in self.features.items() if m in modalities}
        return MultimodalDataset(
            self.samples[keep], explicit if len(explicit) else None, name=self.name, features=features
        )

    def fingerprint(self) -> str:
        """A stable hash of the data: every sample's id, modality, payload (path or text), item,
        label and group, every link (and its fixed split), and the features if given.

        Paths count relative to the common folder of their files, so the same data moved to
        another folder (another data root, another cache) keeps its fingerprint; the files'
        contents are not read. The name of the dataset plays no part.

        Returns:
            ``"sha256:<64 hex digits>"``.
        """
        digest = hashlib.sha256()
        paths = [p for p in self.samples["path"] if p is not None]
        try:
            root = os.path.commonpath([os.path.dirname(p) for p in paths]) if paths else ""
        except ValueError:  # absolute and relative paths mixed: keep them as they are
            root = ""
        columns = ["id", "modality", "path", "text", "item", "label", "group"]
        for row in self.samples[columns].itertuples(index=False):
            row = list(row)
            if row[2] is not None and root:
                row[2] = os.path.relpath(row[2], root)
            digest.update(json.dumps(row, ensure_ascii=False).encode())
        digest.update(b"links")
        columns = list(LINK_COLUMNS) + (["split"] if "split" in self.links.columns else [])
        for row in self.links[columns].itertuples(index=False):
            digest.update(json.dumps(list(row), ensure_ascii=False).encode())
        for modality in sorted(self.features):
            array = np.ascontiguousarray(self.features[modality], dtype="<f4")
            digest.update(f"features|{modality}|{array.shape}|".encode())
            digest.update(array.tobytes())
        return f"sha256:{digest.hexdigest()}"

    def _check_modality(self, modality: NodeType) -> None:
        if modality not in set(self.samples["modality"]):
            raise DataError(
                f"The dataset {self.name!r} has no modality {modality!r}. "
                f"Choose one of {self.modalities}."
            )

    def __len__(self) -> int:
        return len(self.samples)

    def summary(self) -> str:
        """A short human-readable account of what the dataset holds."""
        lines = [f"{self.name}: {len(self.samples):,} samples, {len(self.links):,} links"]
        for modality in self.modalities:
            rows = self.modality_samples(modality)
            kind = (
                "features" if modality in self.features
                else "files" if rows["path"].notna().any() else "texts"
            )
            labels = rows["label"].dropna()
            lines.append(
                f"  {modality:<12} {len(rows):>7,} samples ({kind}), "
                f"{labels.nunique():,} labels, {rows['group'].dropna().nunique():,} groups"
            )
        counts = pd.Series(self.link_edge_types(self.links), dtype=object).value_counts(sort=False)
        for edge_type, count in sorted(counts.items()):
            lines.append(f"  {' -> '.join((edge_type[0], edge_type[2]))} ({edge_type[1]}): {count:,} links")
        return "\n".join(lines)

    def __repr__(self) -> str:
        counts = ", ".join(
            f"{m}={int((self.samples['modality'] == m).sum())}" for m in self.modalities
        )
        return f"MultimodalDataset(name={self.name!r}, {counts}, links={len(self.links)})"


def check_informative(array: np.ndarray, what: str) -> None:
    """Raises :class:`DataError` if every row of a ``(n, dim)`` feature array is the same (``n > 1``):
    such features cannot tell samples apart (a failed encoder, blank files)."""
    if len(array) > 1 and bool((array == array[:1]).all()):
        raise DataError(
            f"{what} are the same for all {len(array)} samples (constant features cannot tell samples apart). "
            "Check the payloads and the encoder."
        )


def _check_readable(path: str | os.PathLike, what: str) -> None:
    """Raises :class:`DataError` unless ``path`` is a file that can be opened for reading
    (:class:`DataNotFoundError`, also a ``FileNotFoundError``, if it does not exist)."""
    path = Path(path)
    if not path.exists():
        raise DataNotFoundError(f"{what} does not exist: {str(path)!r}. Fix the path or remove the row.")
    if not path.is_file():
        raise DataError(f"{what} is not a file: {str(path)!r}. Give the path of a file.")
    try:
        with open(path, "rb") as handle:
            handle.read(1)
    except OSError as error:
        raise DataError(f"{what} cannot be read: {str(path)!r} ({error}). Check its permissions.") from error
