"""Checks of loader options, with messages that say what was wrong and how to fix it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from mmgraph.data.dataset import DataError


def choices_text(choices: Iterable[str]) -> str:
    """``{'a', 'b'}`` with the choices sorted, for error messages."""
    return "{" + ", ".join(repr(c) for c in sorted(choices)) + "}"


def check_names(
    values: Sequence[str] | str, choices: Iterable[str], *, param: str, loader: str
) -> tuple[str, ...]:
    """Checks that ``values`` is a non-empty sequence of distinct names taken from ``choices``."""
    choices = tuple(choices)
    if isinstance(values, str):
        values = (values,)
    values = tuple(values)
    if not values:
        raise DataError(f"The {param!r} option of {loader!r} must name at least one. Got ().")
    for value in values:
        if value not in choices:
            raise DataError(
                f"The {param!r} option of {loader!r} got {value!r}, which is not among "
                f"the choices {choices_text(choices)}."
            )
    if len(set(values)) != len(values):
        raise DataError(f"The {param!r} option of {loader!r} names one twice: {values}.")
    return values


def check_int(
    value: object, *, param: str, loader: str, minimum: int = 1, allow_none: bool = False
) -> int | None:
    """Checks an integer option that must be at least ``minimum`` (or ``None`` if allowed)."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise DataError(
            f"The {param!r} option of {loader!r} must be an int >= {minimum}"
            f"{' or None' if allow_none else ''}. Got {value!r} instead."
        )
    return value


def check_float(
    value: object, *, param: str, loader: str, low: float, high: float, open_low: bool = False
) -> float:
    """Checks a float option that must lie in ``[low, high]`` (``(low, high]`` if ``open_low``)."""
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    ok = ok and (low < value if open_low else low <= value) and value <= high
    if not ok:
        interval = f"{'(' if open_low else '['}{low}, {high}]"
        raise DataError(
            f"The {param!r} option of {loader!r} must be a number in {interval}. "
            f"Got {value!r} instead."
        )
    return float(value)
