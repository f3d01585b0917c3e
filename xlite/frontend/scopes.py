"""The default graph's name scopes, control dependencies and collections as free functions."""
from __future__ import annotations

import contextlib

from xlite.frontend.graph import Tensor, get_default_graph


@contextlib.contextmanager
def name_scope(name, default_name=None, values=None):
    graph = get_default_graph()
    for v in values or ():
        if isinstance(v, Tensor):
            graph = v.graph
            break
    with graph.name_scope(name if name is not None else default_name) as scope:
        yield scope


def control_dependencies(control_inputs):
    return get_default_graph().control_dependencies(control_inputs)


def add_to_collection(name, value) -> None:
    get_default_graph().add_to_collection(name, value)


def get_collection(key, scope=None) -> list:
    return get_default_graph().get_collection(key, scope)
