"""Loaders of real datasets and a synthetic generator, resolved by name.

Example:
    >>> from mmgraph.datasets import available, load
    >>> sorted(available())
    ['digits', 'emoji', 'openmoji', 'synthetic', 'wn18rr']
    >>> load("synthetic", num_items=10, modalities=("a", "b"))
    MultimodalDataset(name='synthetic', a=10, b=10, links=10)

The real data (``emoji``, ``digits``, ``wn18rr``) is read from the folder given as ``root``
or in the ``MMGRAPH_DATA`` environment variable; ``openmoji`` and ``synthetic`` need none.
:func:`load_triples` reads a knowledge graph (``wn18rr``) as triples, ids per split, instead
(:func:`wn18rr_triples`).
Generated files (rendered emoji, MNIST PNGs) go to ``MMGRAPH_CACHE`` or ``~/.cache/mmgraph``.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from dataclasses import dataclass

from mmgraph.data.dataset import DataError, MultimodalDataset
from mmgraph.data.triples import Triples
from mmgraph.datasets._paths import DataNotFoundError, cache_dir, data_root
from mmgraph.datasets.digits import MNIST_IMAGES, MNIST_LABELS, load_digits
from mmgraph.datasets.emoji import CLDR_LANGUAGES, EMOJI_TEST, NOTO_FONT, load_emoji
from mmgraph.datasets.openmoji import load_openmoji
from mmgraph.datasets.synthetic import load_synthetic
from mmgraph.datasets.wn18rr import ENTITY_TEXTS, SPLIT_FILES, load_wn18rr, wn18rr_triples
from mmgraph.errors import ConfigError, ConfigTypeError
from mmgraph.registry import Registry


@dataclass(frozen=True)
class _Loader:
    function: Callable[..., MultimodalDataset]
    description: str
    needs: tuple[str, ...] = ()  # files and folders under the data root; () = needs no data
    triples: Callable[..., Triples] | None = None  # a knowledge graph's reader of its triples (root first)


DATASETS: Registry[_Loader] = Registry("dataset")
"""Every dataset :func:`load` knows, by name: its loader, a description and the data it needs."""
DATASETS.register("emoji", _Loader(
    load_emoji,
    "3,655 Unicode 15.0 emoji: Noto and OpenMoji drawings, CLDR names in 11 "
    "languages; label = emoji group (10), group = base emoji",
    (
        EMOJI_TEST,
        NOTO_FONT,
        *(f"emoji/cldr/{kind}/{lang}.xml" for kind in ("annotations", "annotationsDerived") for lang in CLDR_LANGUAGES),
    ),
))
DATASETS.register("openmoji", _Loader(
    load_openmoji,
    "OpenMoji drawings of the emoji package's emoji with their names; label = Unicode block; needs no data folder",
))
DATASETS.register("digits", _Loader(
    load_digits,
    "3,000 spoken digits (FSDD, 6 speakers) and 10,000 handwritten digits (MNIST test set); label = digit",
    ("fsdd/recordings", MNIST_IMAGES, MNIST_LABELS),
))
DATASETS.register("wn18rr", _Loader(
    load_wn18rr,
    "40,943 WordNet synsets with texts and 93,003 typed links in the standard train/val/test split",
    (ENTITY_TEXTS, *SPLIT_FILES.values()),
    triples=wn18rr_triples,
))
DATASETS.register("synthetic", _Loader(
    load_synthetic,
    "any number of items seen through several modalities as random features; needs no data folder",
))


def available() -> dict[str, str]:
    """The name and a one-line description of every dataset :func:`load` knows."""
    return {name: DATASETS.get(name).description for name in DATASETS.names()}


def loader_options(name: str) -> dict[str, object]:
    """The options of one loader and their defaults."""
    parameters = inspect.signature(DATASETS.get(name).function).parameters
    return {p.name: p.default for p in parameters.values() if p.kind is p.KEYWORD_ONLY}


def load(
    name: str, *, root: str | os.PathLike | None = None, **options: object
) -> MultimodalDataset:
    """Loads a dataset by name.

    Args:
        name: one of :func:`available`.
        root: the data folder (the shared ``data/``); defaults to ``MMGRAPH_DATA``. Ignored
            by the datasets that need none (``openmoji``, ``synthetic``).
        **options: the loader's options, see :func:`loader_options` and each ``load_<name>``.

    Returns:
        The dataset.

    Raises:
        ValueError: for an unknown name, listing the choices.
        TypeError: for an unknown option, listing the valid ones.
        DataNotFoundError: if the data is not where it was looked for; the message names
            the path and how to point elsewhere.
    """
    loader = DATASETS.get(name)
    valid = loader_options(name)
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise ConfigTypeError(
            f"load({name!r}) got the unknown option(s) {unknown}. "
            f"Valid options: {sorted(valid) or 'none'}."
        )
    if not loader.needs:
        return loader.function(**options)
    return loader.function(data_root(root), **options)


def load_triples(name: str, *, root: str | os.PathLike | None = None, **options: object) -> Triples:
    """Reads a knowledge-graph dataset as triples (entity and relation ids per split).

    Args:
        name: a dataset with a triples reader (``wn18rr``).
        root: the data folder; defaults to ``MMGRAPH_DATA``.
        **options: the reader's keyword options (``wn18rr``: ``keep_self_loops``).

    Raises:
        ConfigError: the dataset is not a knowledge graph; the message lists those that are.
        DataNotFoundError: the files are not in the data folder.
    """
    reader = DATASETS.get(name).triples
    if reader is None:
        graphs = [n for n in DATASETS.names() if DATASETS.get(n).triples is not None]
        raise ConfigError(
            f"The dataset {name!r} is not a knowledge graph: it has no triples. Knowledge graphs: {graphs}."
        )
    parameters = inspect.signature(reader).parameters
    valid = sorted(p.name for p in parameters.values() if p.kind is p.KEYWORD_ONLY)
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise ConfigTypeError(
            f"load_triples({name!r}) got the unknown option(s) {unknown}. Valid options: {valid or 'none'}."
        )
    return reader(data_root(root), **options)


def data_status(root: str | os.PathLike | None = None) -> dict[str, bool]:
    """Whether the data of every dataset is present (always ``True`` for those needing none)."""
    try:
        folder = data_root(root)
    except DataNotFoundError:
        folder = None
    status = {}
    for name in DATASETS.names():
        needs = DATASETS.get(name).needs
        status[name] = not needs or (folder is not None and all((folder / path).exists() for path in needs))
    return status


__all__ = [
    "DataError",
    "DataNotFoundError",
    "DATASETS",
    "available",
    "cache_dir",
    "data_root",
    "data_status",
    "load",
    "load_digits",
    "load_emoji",
    "load_openmoji",
    "load_synthetic",
    "load_triples",
    "load_wn18rr",
    "loader_options",
    "wn18rr_triples",
]
