"""Files written whole or not at all: the one atomic-write helper of mmgraph."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, BinaryIO

from mmgraph.errors import MissingFileError, SavedFileError


def atomic_write(path: str | os.PathLike, content: str | bytes | Callable[[BinaryIO], None]) -> Path:
    """Writes ``path`` through a temporary file in its folder and ``os.replace``.

    A reader sees the old file or the new one, never half of one; a failure leaves no
    temporary file behind. The new file gets the permissions of a normal new file.

    Args:
        path: the file to write (its folder is made if missing).
        content: text (written as UTF-8), bytes, or a function that writes to a binary stream
            (``lambda stream: torch.save(state, stream)``).

    Example:
        >>> import tempfile, pathlib
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> atomic_write(folder / "a.json", '{"ok": true}').read_text()
        '{"ok": true}'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            if isinstance(content, str):
                stream.write(content.encode("utf-8"))
            elif isinstance(content, bytes):
                stream.write(content)
            else:
                content(stream)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
    return path


def save_tensors(path: str | os.PathLike, tensors: Mapping[str, Any]) -> Path:
    """Writes named tensors as safetensors (no pickle), atomically."""
    from safetensors.torch import save

    return atomic_write(path, save({k: v.detach().contiguous().clone() for k, v in tensors.items()}))


def load_tensors(path: str | os.PathLike) -> dict[str, Any]:
    """Reads a file written by :func:`save_tensors`; a missing or damaged file raises :class:`SavedFileError`."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as error:
        raise SavedFileError(
            f"Cannot read the tensors of {str(path)!r} ({error}); the folder is incomplete or damaged. Save it again."
        ) from error


def load_json(path: str | os.PathLike) -> dict[str, Any]:
    """Reads a JSON object that mmgraph saved (a result, a model, an encoder config).

    Raises:
        MissingFileError: the file does not exist.
        SavedFileError: the file is not valid UTF-8 JSON or holds no JSON object; the message names it.
    """
    path = Path(path)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise MissingFileError(f"{str(path)!r} is missing; give the folder mmgraph saved to.") from error
    except IsADirectoryError as error:
        raise SavedFileError(f"{str(path)!r} is a folder, not a JSON file mmgraph saved.") from error
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as error:
        raise SavedFileError(
            f"{str(path)!r} is damaged (not valid JSON: {error}); save it again or give another folder."
        ) from error
    if not isinstance(record, dict):
        raise SavedFileError(
            f"{str(path)!r} holds a JSON {type(record).__name__}, not the object mmgraph saves; "
            "it is damaged or not an mmgraph file."
        )
    return record
