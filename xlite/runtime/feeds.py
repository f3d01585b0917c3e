"""A Session's feeds: the one careful validation, with TensorFlow's errors, and what feed keys name.

`validate_feeds` is what every feed that a run plan's cheap check (`xlite.arguments.fits`)
turns away goes through: a key that names no Tensor, a value that is a Tensor, a value that does not
convert to the placeholder's dtype, a shape that does not fit the placeholder's all raise here, as TF1's
Session.run raises them, before anything runs. What passes is an array the executables take as it is.
"""
from __future__ import annotations

import numpy as np

from xlite import errors
from xlite.arguments import fits
from xlite.frontend import nest
from xlite.frontend.graph import Graph, Tensor


class FeedShapeError(errors.InvalidArgumentError, ValueError):
    """A feed whose shape does not fit its placeholder: InvalidArgumentError, and TF1's ValueError too."""


def validate_feeds(graph: Graph, feed_dict: dict) -> dict[Tensor, np.ndarray]:
    """Every feed as an array of its tensor's dtype, C-contiguous and aligned, its shape checked, in
    creation order (so the same feeds written in another order find the same signature). An array
    that already fits goes in as a view of itself (no backend writes a feed); any other value as a
    private read-only copy (the caller may reuse their buffer)."""
    feeds: dict[Tensor, np.ndarray] = {}
    for key, value in _flat_items(feed_dict):
        t = _feed_tensor(graph, key)
        feeds[t] = validate_feed(t, value)
    return dict(sorted(feeds.items(), key=lambda item: (item[0].op._id, item[0].value_index)))


def _flat_items(feed_dict: dict):
    """The (key, value) pairs, a key that nests tensors (an RNN's LSTMStateTuple, a MultiRNNCell's tuple of
    them) paired leaf by leaf with its value's leaves, as TF1's Session.run does (nest.flatten_dict_items).
    Such a run takes the careful path each time (`feed_tensors` names no tensor for it)."""
    for key, value in feed_dict.items():
        if hasattr(key, "_feed_parts"):              # a SparseTensor fed a SparseTensorValue (or a tuple)
            key, value = key._feed_parts(value)
        if not isinstance(key, (tuple, list)):
            yield key, value
            continue
        keys, values = nest.flatten(key), nest.flatten(value)
        if len(keys) != len(values):
            raise ValueError(f"Could not flatten dictionary. Key had {len(keys)} elements, but value had "
                             f"{len(values)} elements. Key: {key}, value: {value}.")
        yield from zip(keys, values)


def validate_feed(t: Tensor, value) -> np.ndarray:
    """One feed of `t`, converted and checked as `validate_feeds` says."""
    if isinstance(value, Tensor) or hasattr(value, "_as_graph_element"):
        raise TypeError("The value of a feed cannot be a tf.Tensor object. Acceptable feed values "
                        "include Python scalars, strings, lists, numpy ndarrays, or TensorHandles. "
                        f"For reference, the tensor object was {value} which was passed to the "
                        f"argument `feed_dict` with key {t}.")
    try:
        array = np.asarray(value, dtype=t.dtype.np)
    except (TypeError, ValueError) as e:
        raise type(e)(f"Cannot feed value {value!r} to tensor '{t.name}' of dtype "
                      f"{t.dtype.name}: {e}") from None
    if not t.shape.is_compatible_with(array.shape):
        raise FeedShapeError(
            t.op.node_def, t.op,
            f"Cannot feed value of shape {array.shape} for Tensor {t.name}, which has shape {t.shape}")
    if array is value and fits((array,), ((array.dtype, array.shape),)):
        return array.view()
    array = np.array(array, order="C")
    array.flags.writeable = False
    return array


def feed_tensors(graph: Graph, feed_dict: dict) -> list[Tensor] | None:
    """The tensors the feed keys name, in feed_dict order; None when any key needs `validate_feeds`'s
    error (a run plan is then never filed for these keys)."""
    tensors = []
    for key in feed_dict:
        try:
            t = graph.as_graph_element(key, allow_tensor=True, allow_operation=False)
        except (KeyError, TypeError, ValueError):
            return None
        if not isinstance(t, Tensor):
            return None
        tensors.append(t)
    return tensors


def _feed_tensor(graph: Graph, key) -> Tensor:
    try:
        return graph.as_graph_element(key, allow_tensor=True, allow_operation=False)
    except (KeyError, TypeError, ValueError) as e:
        reason = e.args[0] if isinstance(e, KeyError) and e.args else str(e)
        raise TypeError(f"Cannot interpret feed_dict key as Tensor: {reason}") from None


__all__ = ["FeedShapeError", "validate_feeds", "validate_feed", "feed_tensors"]
