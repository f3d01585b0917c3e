"""Packages that `import xlite` leaves for first use (#18: a light import), and that register frontend rules
(lowerings, gradients, the GraphDef builder) when they load: the frontend loads them before it calls one missing."""
from __future__ import annotations

import threading
from typing import Callable

_LOADERS: list[Callable[[], None]] = []
_LOCK = threading.Lock()
_THIS_THREAD = threading.local()     # .loading: a loader of this thread is running (its imports may ask again)


def add_loader(load: Callable[[], None]) -> None:
    """Registers `load()`, which imports deferred packages; xlite/__init__.py registers one."""
    _LOADERS.append(load)


def load_all() -> bool:
    """Runs every loader once; True when any ran or was running (a missing rule may be there now). Another
    thread asking meanwhile waits for them: a loader leaves the list only once it has run."""
    if not _LOADERS or getattr(_THIS_THREAD, "loading", False):
        return False
    with _LOCK:
        _THIS_THREAD.loading = True
        try:
            while _LOADERS:
                try:
                    _LOADERS[0]()
                finally:
                    _LOADERS.pop(0)
        finally:
            _THIS_THREAD.loading = False
    return True
