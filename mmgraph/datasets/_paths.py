"""Where the shared data lives, where generated files are cached, and writing them safely."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from PIL import Image

from mmgraph.errors import DataNotFoundError
from mmgraph.io import atomic_write

DATA_ENV = "MMGRAPH_DATA"
"""The environment variable naming the folder of the real data (the shared ``data/`` folder)."""

CACHE_ENV = "MMGRAPH_CACHE"
"""The environment variable naming the cache folder for generated files."""


def _not_found(message: str) -> DataNotFoundError:
    """The error of data that is not found, with the fix as said in Python and on the command line."""
    variable = f"or set {DATA_ENV}=/path/to/shared/data."
    return DataNotFoundError(
        f"{message} Pass the data folder with load(..., root='/path/to/shared/data') {variable}",
        cli_message=f"{message} Pass the data folder with --data /path/to/shared/data {variable}",
    )


def data_root(root: str | os.PathLike | None = None) -> Path:
    """The folder of the real data: ``root`` if given, else the ``MMGRAPH_DATA`` variable.

    Args:
        root: the data folder; overrides the environment variable.

    Returns:
        The folder, which exists.

    Raises:
        DataNotFoundError: if neither is set or the folder does not exist; the message names
            the path it looked at and how to point elsewhere.
    """
    if root is None:
        value = os.environ.get(DATA_ENV, "").strip()
        if not value:
            raise _not_found(f"No data folder is set: none was given and {DATA_ENV} is not set.")
        root, source = value, f"from {DATA_ENV}"
    else:
        source = "as given"
    path = Path(root).expanduser()
    if not path.is_dir():
        raise _not_found(f"The data folder {str(path)!r} ({source}) does not exist or is not a folder.")
    return path


def require(root: Path, relative: str, *, dataset: str) -> Path:
    """The file or folder ``root / relative``, or a clear error naming where it looked."""
    path = root / relative
    if not path.exists():
        raise _not_found(f"The {dataset!r} dataset needs {relative!r}, which is not at {str(path)!r}.")
    return path


def cache_dir(*parts: str) -> Path:
    """A folder in the cache (``MMGRAPH_CACHE``, else ``~/.cache/mmgraph``), created if needed."""
    base = os.environ.get(CACHE_ENV, "").strip()
    path = Path(base).expanduser() if base else Path.home() / ".cache" / "mmgraph"
    path = path.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def file_digest(path: Path, *, length: int = 10) -> str:
    """A short content hash of a file, used to key cached files by their source."""
    digest = hashlib.sha1()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:length]


def save_png_atomic(image: Image.Image, path: Path) -> None:
    """Saves ``image`` as a PNG at ``path`` with :func:`mmgraph.io.atomic_write`: never a half-written ``path``."""
    atomic_write(path, lambda stream: image.save(stream, format="PNG", compress_level=1))
