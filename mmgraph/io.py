"""Files: the one atomic write, the one folder lock, the one writability check, and the one
message for a user's text file that is not UTF-8."""

from __future__ import annotations

import contextlib
import errno
import glob
import json
import logging
import os
import shlex
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

from mmgraph.errors import MissingFileError, OutputError, SavedFileError

try:
    import fcntl
except ImportError:  # not Linux or macOS: no lock (see folder_lock)
    fcntl = None

logger = logging.getLogger(__name__)

LOCK_FILE = ".mmgraph-lock"
"""The lock file of :func:`folder_lock` in a folder mmgraph writes to; it exists only while a
process holds the lock (or after one was killed holding it, harmlessly: the next one reuses it)."""

STAGING_PREFIX = ".mmgraph-save."
"""The start of the names of mmgraph's temporary folders inside an output folder: a result being
staged by :meth:`~mmgraph.pipeline.PipelineResult.save` and the probe of :func:`check_writable`.
One left behind was made by a killed process; the next save removes it."""

LOCK_PATIENCE_SECONDS = 1.0
"""How long :func:`folder_lock` waits in silence before it says that it waits for another process."""


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


def not_utf8_message(path: str | os.PathLike, what: str = "The file") -> str:
    """The message for a user's text file (a manifest, a links table, a list of inputs, a
    configuration) that is not UTF-8: it names the file, where its first byte that is not UTF-8
    is (line and byte offset) and how to convert the file. Readers raise the error of their own
    family with it (:class:`~mmgraph.errors.DataError` for data, :class:`~mmgraph.errors.ConfigError`
    for a configuration).

    Args:
        path: the file, read again here to find the byte (a parser's own error counts from
            the start of a block, not of the file).
        what: how the message names the file (``"The manifest"``).

    Example:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "m.csv"
        >>> _ = path.write_bytes(b"id,text\\na,caf\\xe9\\n")
        >>> not_utf8_message(path, "The manifest").split(":")[0].endswith("line 2 (byte 13")
        True
    """
    where = ""
    try:
        data = Path(path).read_bytes()
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        where = f" at line {line} (byte {error.start}: 0x{data[error.start]:02x})"
    except OSError:
        pass
    quoted = shlex.quote(str(path))
    return (
        f"{what} {str(path)!r} is not UTF-8 text{where}: mmgraph reads text files as UTF-8. Save it as UTF-8, e.g. "
        f"from Latin-1 (or Windows cp1252): iconv -f latin1 -t utf-8 {quoted} > {shlex.quote(str(path) + '.utf8')}, "
        "then give the new file."
    )


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


@contextlib.contextmanager
def folder_lock(folder: str | os.PathLike, *, waiting: str | None = None) -> Iterator[None]:
    """Holds the lock of ``folder`` (its file :data:`LOCK_FILE`, ``fcntl.flock``) for the block.

    One process (or thread) at a time holds it; another waits, says so (``waiting``, logged as a
    warning) if that takes longer than :data:`LOCK_PATIENCE_SECONDS`, and continues when the lock is
    free. The lock dies with its process, so a killed holder never blocks anyone. The lock file is
    removed on release. Without ``fcntl`` (Windows) the block runs without a lock.

    Args:
        folder: an existing folder.
        waiting: the message when it waits (default: names the folder).
    """
    path = Path(folder) / LOCK_FILE
    if fcntl is None:
        yield
        return
    while True:
        handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            _acquire(handle, waiting or f"waiting for another mmgraph process that writes to {str(folder)!r}")
            held = os.path.samestat(os.fstat(handle), os.stat(path))
        except FileNotFoundError:
            held = False
        except BaseException:
            os.close(handle)
            raise
        if held:
            break
        os.close(handle)  # the holder removed the file as it released it: lock the file now there
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            path.unlink()  # still held: a waiter then finds its file gone and takes the new one
        os.close(handle)


def _acquire(handle: int, waiting: str) -> None:
    deadline = time.monotonic() + LOCK_PATIENCE_SECONDS
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                break
            time.sleep(0.02)
    logger.warning(waiting)
    fcntl.flock(handle, fcntl.LOCK_EX)


def check_writable(folder: str | os.PathLike) -> None:
    """Makes ``folder`` if missing (as a run writing there would) and raises :class:`OutputError`
    unless it takes a new entry: a probe is made there and removed at once. Permission bits do
    not tell (root ignores them; a read-only disk does not show in them)."""
    folder = Path(folder)
    try:
        existing = folder.absolute()
        while not existing.exists():
            existing = existing.parent
        if not existing.is_dir():
            raise output_error(folder, NotADirectoryError(errno.ENOTDIR, "a file, not a folder", str(existing)))
        folder.mkdir(parents=True, exist_ok=True)
        probe = tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=folder)
        with contextlib.suppress(FileNotFoundError):  # a save's clean-up may have taken it already
            os.rmdir(probe)
    except OutputError:
        raise
    except OSError as error:
        raise output_error(folder, error) from error


def output_error(folder: str | os.PathLike, error: OSError) -> OutputError:
    """The :class:`OutputError` of an OS error met while writing to the output folder ``folder``:
    one line with the folder, the system's reason (and the path it concerns) and what to do."""
    reason = error.strerror or str(error)
    where = f" ({error.filename})" if error.filename and str(error.filename) != str(folder) else ""
    return OutputError(
        f"Cannot write to the output folder {str(folder)!r}: {reason}{where}. Give a folder you can write to "
        "(not read-only, with free space), then run the same command again."
    )


def remove_leftovers(folder: str | os.PathLike, names: Iterable[str] = ()) -> None:
    """Removes what killed writers left in ``folder``: mmgraph's staging folders and probes
    (:data:`STAGING_PREFIX`) and the temporary files of :func:`atomic_write` of ``folder/<name>``
    for each of ``names``.

    Call it only while holding :func:`folder_lock` of ``folder``, which every save of a staging
    folder and every writer of those files holds, so that nothing found belongs to a live writer
    (a probe of :func:`check_writable` may go; it is empty and its maker lets it go).
    """
    folder = Path(folder)
    for path in folder.glob(f"{glob.escape(STAGING_PREFIX)}*"):
        logger.info("removing %s, left by an interrupted write", path)
        shutil.rmtree(path, ignore_errors=True)
    for name in names:
        for path in folder.glob(f".{glob.escape(name)}.*.tmp"):
            with contextlib.suppress(OSError):
                path.unlink()
