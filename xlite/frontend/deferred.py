"""Packages that `import xlite` leaves for first use (#18: a light import), and that register frontend rules
(lowerings, gradients, the GraphDef builder) when they load: the frontend loads them before it calls one missing."""
from __future__ import annotations

from typing import Callable

_LOADERS: list[Callable[[], None]] = []


def add_loader(load: Callable[[], None]) -> None:
    """Registers `load()`, which imports deferred packages; xlite/__init__.py registers one."""
    _LOADERS.append(load)


def load_all() -> bool:
    """Runs every loader once; True when any ran (a missing rule may be there now)."""
    ran = bool(_LOADERS)
    while _LOADERS:
        _LOADERS.pop()()
    return ran
