"""The exceptions a user can cause, in one place.

Every error a user can cause is one of these (or a standard ``ValueError`` / ``TypeError`` /
``OSError`` with a message that names the thing, the value found and the fix).
"""

from __future__ import annotations


class DataError(ValueError):
    """A dataset, manifest, split or task that cannot be used as given."""


class NotApplicableError(ValueError):
    """A model does not apply to a task: the wrong kind of task, or feature spaces it cannot compare.

    The benchmark records such a run as skipped, with the message as the reason.
    """
