"""The default graph's name scopes, control dependencies and collections as free functions."""
from __future__ import annotations

import contextlib

from xlite.frontend.graph import Graph, Operation, Tensor, get_default_graph


def _graph_of(values) -> Graph:
    """The graph that `values` belong to (TF's `_get_graph_from_inputs`), else the default graph."""
    for v in values or ():
        v = v._as_graph_element() if hasattr(v, "_as_graph_element") else v
        if isinstance(v, (Tensor, Operation)):
            return v.graph
    return get_default_graph()


@contextlib.contextmanager
def name_scope(name, default_name=None, values=None):
    """TF1's `tf.name_scope(name, default_name, values)`: the scope opens in the graph of
    `values`, which also becomes the default graph inside it."""
    if not name and default_name is not None:
        name = default_name
    graph = _graph_of(values)
    with graph.as_default(), graph.name_scope(name) as scope:
        yield scope


def control_dependencies(control_inputs):
    """Ops created inside run only after `control_inputs`; None clears the enclosing ones."""
    return get_default_graph().control_dependencies(control_inputs)


@contextlib.contextmanager
def device(device_name):
    """Accepted for TF1 programs; xlite places the whole run on the Session's target."""
    if device_name is not None and not isinstance(device_name, str) and not callable(device_name):
        raise TypeError(f"device must be a string, a function or None, got {device_name!r}")
    yield


def add_to_collection(name, value) -> None:
    get_default_graph().add_to_collection(name, value)


def add_to_collections(names, value) -> None:
    get_default_graph().add_to_collections(names, value)


def get_collection(key, scope=None) -> list:
    return get_default_graph().get_collection(key, scope)


def get_collection_ref(key) -> list:
    return get_default_graph().get_collection_ref(key)
