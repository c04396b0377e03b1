"""``Registry``: the name -> item table behind every "add one by registering it" list in gan_core
(datasets, model presets, losses), refusing a name that is already taken, as torchvision's
``register_model`` does: a second dataset called "mnist5k" is a mistake, never a silent replacement."""

from __future__ import annotations

from typing import Protocol, TypeVar


class Named(Protocol):
    name: str


T = TypeVar("T", bound=Named)


class Registry(dict[str, T]):
    """A dict keyed by each item's ``name``; ``register`` adds an item and refuses a duplicate name."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind  # what the items are, for the message ("dataset", "model preset", "loss")

    def register(self, item: T) -> T:
        """Add ``item`` under ``item.name``; raise ``ValueError`` if that name is registered already."""
        if item.name in self:
            raise ValueError(f"a {self.kind} named {item.name!r} is already registered")
        self[item.name] = item
        return item
