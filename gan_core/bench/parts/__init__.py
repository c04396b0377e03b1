"""The benchmark's parts, one module each, found here by themselves: a module that defines
``PART = Part(name, order, run, markdown, goals, sizes)`` is a part (``gan_core.bench.harness.Part``), so adding
a part is adding its module. ``PARTS`` holds them by name, in their ``order`` (the order they run in
and their sections of BENCHMARKS.md follow), and refuses a second part of the same name."""

from __future__ import annotations

import importlib
import pkgutil

from gan_core.bench.harness import Part
from gan_core.registry import Registry

PARTS: Registry[Part] = Registry("bench part")

for _part in sorted((importlib.import_module(f"{__name__}.{m.name}").PART for m in pkgutil.iter_modules(__path__)),
                    key=lambda p: p.order):
    PARTS.register(_part)
