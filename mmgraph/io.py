"""Files written whole or not at all: the one atomic-write helper of mmgraph."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


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
