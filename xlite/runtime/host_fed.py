"""Ops whose work is done on the host around a run: the Session fills their outputs as feeds.

Some op types stand for host state rather than for arithmetic: a tf.data iterator's
`IteratorGetNext` (its outputs are the next element) and the `MakeIterator` that (re)starts it with
the values of the dataset's graph tensors. Such an op carries a *host provider* (`attach`) and is
listed in its graph's `HOST_OPS` collection. Before a run, `Session.run` calls `fill`: for each such
op the run needs (its fetches' and targets' ancestors that are not fed),

- a provider with `next_value(session)` gives the values of all the op's outputs (or raises
  `OutOfRangeError`), which join the run's feeds: the executable takes them as parameters, exactly
  like fed placeholders, arrays handed over as they are (no copy when they fit). A value of None is
  one no executable takes (a tf.string the provider keeps for the host ops that read it);
- a provider with `run_action(session, feed_dict)` does its work first (it may run the session on
  the op's inputs with the same feeds).

A run that names no host op, or a graph that has none, pays one dictionary lookup. The ops the run
needs are worked out once per fetch structure and feed keys.
"""
from __future__ import annotations

import weakref

from xlite import errors
from xlite.frontend.graph import Operation, Tensor
from xlite.frontend.lower import needed_ops
from xlite.frontend.string_ops import HOST_OPS      # the graph collection listing ops the host runs
from xlite.ir import dtypes
from xlite.runtime import host_values

_needed: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()   # Session -> {run key: [ops]}


def attach(op: Operation, provider) -> None:
    """Makes `provider` the host side of `op` (see the module docstring)."""
    op._host_provider = provider
    op.graph.add_to_collection(HOST_OPS, op)


def fill(session, fetches, feed_dict):
    """`feed_dict` with the values of the host ops this run needs (after their actions ran)."""
    if not session.graph._collections.get(HOST_OPS):
        return feed_dict
    strings, feed_dict = host_values.split_feeds(session.graph, feed_dict)
    ops = _host_ops_of_run(session, fetches, feed_dict)
    if not ops:
        return feed_dict
    filled = dict(feed_dict)
    for op in ops:
        provider = getattr(op, "_host_provider", None)
        if hasattr(provider, "run_action"):
            provider.run_action(session, feed_dict)
    for op in ops:
        provider = getattr(op, "_host_provider", None)
        if hasattr(provider, "next_value"):
            filled.update((t, v) for t, v in zip(op.outputs, provider.next_value(session)) if v is not None)
    filled.update(host_values.fill_numeric(session, ops, feed_dict, strings))
    return filled


def needed_host_ops(session, fetches, feed_dict) -> list[Operation]:
    """The ops with a host side that a run of `fetches` fed `feed_dict` needs, in creation order."""
    return _host_ops_of_run(session, fetches, feed_dict)


def run_key(fetches):
    """A hashable key of a fetch structure, or None for one that cannot be hashed."""
    try:
        key = _key(fetches)
        hash(key)
    except TypeError:
        return None
    return key


def _host_ops_of_run(session, fetches, feed_dict) -> list[Operation]:
    fetch_key = run_key(fetches)
    key = None if fetch_key is None else (fetch_key, tuple(feed_dict))
    per_session = _needed.setdefault(session, {})
    ops = per_session.get(key) if key is not None else None
    if ops is None:
        from xlite.runtime.fetches import FetchMapper
        graph = session.graph
        mapper = FetchMapper(graph, fetches)
        try:
            fed = {graph.as_graph_element(k, allow_tensor=True, allow_operation=False) for k in feed_dict}
        except (KeyError, TypeError, ValueError):
            return []               # the run's own feed validation raises TF's error for the key
        fed = {t for t in fed if isinstance(t, Tensor)}
        needed = needed_ops(mapper.unique_tensors(), mapper.target_ops, fed)
        _check_no_compiled_string_reader(needed)
        ops = [op for op in needed if getattr(op, "_host_provider", None) is not None
               or getattr(op, "_host_compute", None) is not None]
        if key is not None:
            per_session[key] = ops
    return ops


def _check_no_compiled_string_reader(ops: list[Operation]) -> None:
    """A compiled op reading a tf.string raises TF's kind of error here, naming it, before any compile."""
    for op in ops:
        if (op.type not in ("Shape", "Size", "Rank") and getattr(op, "_host_provider", None) is None
                and host_values.host_compute(op) is None and any(t.dtype is dtypes.string for t in op.inputs)):
            raise errors.UnimplementedError(
                None, op, f"{op.type} '{op.name}' reads a tf.string tensor: compiled ops take numbers only "
                          "(tf.strings.to_number, tf.strings.length, ... turn strings into numbers on the host)")


def _key(fetches):
    if isinstance(fetches, (list, tuple)):
        return (type(fetches),) + tuple(_key(f) for f in fetches)
    if isinstance(fetches, dict):
        return (dict,) + tuple((k, _key(v)) for k, v in fetches.items())
    return fetches


__all__ = ["HOST_OPS", "attach", "fill", "needed_host_ops", "run_key"]
