"""The exceptions a user can cause, in one place: the :class:`MMGraphError` family.

Every error that a user's input can cause (data, files, settings, saved folders, command-line
arguments) is a member, with a message that names the thing, the value found and the fix. Each
member also subclasses the standard exception it refines (``ValueError``, ``TypeError``,
``FileNotFoundError``, ...), so ``except ValueError`` keeps working. Anything else that escapes
mmgraph is a bug; the ``mmgraph`` command prints members as one line (their ``cli_message``
where the fix is spelled as an option there) and exits with status 2::

    MMGraphError
    ├── DataError (ValueError)              a dataset, manifest, links table, payload, feature
    │   │                                   array, split or task that cannot be used as given
    │   ├── EncodingError                   a payload an encoder cannot turn into features
    │   ├── SavedFileError                  a saved result, model or encoder folder that is
    │   │                                   damaged, incomplete or from another version
    │   └── DataNotFoundError (FileNotFoundError)  data that is not where it was said to be
    │                                   (the shared data folder, a manifest, a sample's file)
    ├── ConfigError (ValueError)            a setting, option, name or configuration file
    │   └── ConfigTypeError (TypeError)     a setting of the wrong type
    ├── NotApplicableError (ValueError)     a model that does not apply to a task
    ├── NotFittedError (ValueError, AttributeError)  used before ``fit``
    ├── MissingFileError (FileNotFoundError)  a file or folder the user named does not exist
    ├── MissingDependencyError (ImportError)  an optional package a chosen component needs
    └── OutputError (OSError)               an output folder that cannot be written (read-only,
        │                                   no permission, a full disk, a parent that is a file)
        └── OutputExistsError (FileExistsError)  an output folder that may not be written to
                                            (a file, or a folder holding other files)
"""

from __future__ import annotations

__all__ = [
    "ConfigError", "ConfigTypeError", "DataError", "DataNotFoundError", "EncodingError", "MMGraphError",
    "MissingDependencyError", "MissingFileError", "NotApplicableError", "NotFittedError", "OutputError",
    "OutputExistsError", "SavedFileError",
]


class MMGraphError(Exception):
    """The base of every error a user of mmgraph can cause.

    Args:
        message: what is wrong, the value found and the fix, as said to a Python caller.
        cli_message: the same message as the ``mmgraph`` command prints it, where the fix is
            spelled otherwise on the command line (``--encoder image=precomputed:path=FILE``
            where ``message`` names ``resolve('precomputed', path=...)``); ``None``: the command
            prints ``message``. The place that raises builds both from one text.
    """

    def __init__(self, message: str = "", *, cli_message: str | None = None) -> None:
        super().__init__(message)
        self.cli_message = cli_message


class DataError(MMGraphError, ValueError):
    """A dataset, manifest, links table, payload, feature array, split or task that cannot be used as given."""


class EncodingError(DataError):
    """A payload that an encoder cannot turn into features (unreadable file, wrong type, ...).

    Attributes:
        index: the position of the sample in the payloads given to ``encode`` or ``fit``.
        payload: the payload itself (a path, a text or an id).
    """

    def __init__(
        self, message: str, *, index: int | None = None, payload: object = None, cli_message: str | None = None
    ) -> None:
        super().__init__(message, cli_message=cli_message)
        self.index = index
        self.payload = payload


class SavedFileError(DataError):
    """A saved result, model or encoder folder that is damaged, incomplete, or written by another
    version of mmgraph in a format this one does not read."""


class MissingFileError(MMGraphError, FileNotFoundError):
    """A file or folder the user named (a manifest, a result, a model folder, a list) does not exist."""


class DataNotFoundError(DataError, MissingFileError):
    """Data that is not where it was said to be: the shared data a loader needs, a manifest, a
    links table, the file of a sample."""


class ConfigError(MMGraphError, ValueError):
    """A setting, option, component name, command-line argument or configuration file that is invalid."""


class ConfigTypeError(ConfigError, TypeError):
    """A setting or argument of the wrong type (a list where a name is expected, ...)."""


class NotApplicableError(MMGraphError, ValueError):
    """A model does not apply to a task: the wrong kind of task, or feature spaces it cannot compare.

    The benchmark records such a run as skipped, with the message as the reason.
    """


class NotFittedError(MMGraphError, ValueError, AttributeError):
    """An encoder or model was used before ``fit``."""


class MissingDependencyError(MMGraphError, ImportError):
    """An optional package that a chosen component needs (faiss, an encoder's weights) is not installed."""


class OutputError(MMGraphError, OSError):
    """An output folder that cannot be written: read-only, without permission, on a full disk, or
    under a path whose parent is a file. The message names the folder and the system's reason."""


class OutputExistsError(OutputError, FileExistsError):
    """An output folder that mmgraph may not write to (a file, or a folder holding other files)."""
