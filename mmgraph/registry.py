"""A small name -> component registry, one per kind of component (as in PyKEEN's class-resolver)."""

from __future__ import annotations

from typing import Generic, TypeVar

from mmgraph.errors import ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps names to components of one kind and resolves a name with a helpful error.

    Example:
        >>> convolutions = Registry("convolution")
        >>> convolutions.register("sage", object)
        >>> convolutions.get("grpahsage")
        Traceback (most recent call last):
        ...
        mmgraph.errors.ConfigError: Could not resolve convolution 'grpahsage' among choices {'sage'}
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str, item: T) -> None:
        """Registers ``item`` under ``name``, lowercased as :meth:`get` looks names up."""
        key = name.strip().lower()
        if key in self._items:
            raise ConfigError(f"The {self.kind} name {name!r} is already registered.")
        self._items[key] = item

    def get(self, name: str) -> T:
        key = str(name).strip().lower()
        if key not in self._items:
            choices = "{" + ", ".join(repr(n) for n in sorted(self._items)) + "}"
            raise ConfigError(f"Could not resolve {self.kind} {name!r} among choices {choices}")
        return self._items[key]

    def names(self) -> list[str]:
        return sorted(self._items)

    def values(self) -> list[T]:
        """The registered items, in the order they were registered."""
        return list(self._items.values())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.strip().lower() in self._items

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {self.names()})"
