"""TensorFlow names xlite lacks raise UnimplementedError naming them (the standing rule), not AttributeError.

Each TF namespace module ends its attribute lookup here: a name TF 1.x has (tf_api_missing.py) raises
MissingAPIError, which is both TF's UnimplementedError and an AttributeError, so `hasattr` and
`getattr(tf, name, default)` keep working; any other name is a plain AttributeError, as for a typo.
"""
from __future__ import annotations

from typing import Callable

from xlite import errors


class MissingAPIError(errors.UnimplementedError, AttributeError):
    """A TensorFlow API xlite does not implement yet."""


def missing_api(namespace: str, name: str, module: str) -> AttributeError:
    """The error for `tf.<namespace>.<name>` looked up on xlite's module `module`."""
    if not name.startswith("__"):     # (import machinery asks for __path__ and the like: no list needed)
        from xlite.frontend.tf_api_missing import MISSING       # loaded on the first real miss
        if name in MISSING.get(namespace, ()):
            where = f"tf.{namespace}.{name}" if namespace else f"tf.{name}"
            return MissingAPIError(None, None, f"{where} is not implemented in xlite yet")
    return AttributeError(f"module {module!r} has no attribute {name!r}")


def namespace_getattr(namespace: str, module: str) -> Callable:
    """A module-level `__getattr__` for the xlite module `module` that stands for `tf.<namespace>`."""
    def __getattr__(name: str):
        raise missing_api(namespace, name, module)
    return __getattr__


__all__ = ["MissingAPIError", "missing_api", "namespace_getattr"]
