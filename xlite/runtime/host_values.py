"""Values of the host ops of a Session run (tf.strings, xlite/frontend/string_ops.py): computed on the host
from the run's feeds, from what host providers keep (a tf.data get_next's strings) and, for a fetch, from
what the executable computed.

Two edges join host ops and the executable:
- host -> compiled: before the run, `fill_numeric` computes the numeric outputs of the host ops the
  executable reads (to_number of a fed string) and feeds them, as get_next's numbers are fed;
- compiled -> host: a fetch of a string (or of a host op's number) is made after one run of the
  executable that also fetches the computed numbers it reads (as_string of a computed tensor).
A host op's numbers read by compiled ops AND made from computed numbers (compiled -> host -> compiled)
would need two runs: its lowering raises UnimplementedError naming the op."""
from __future__ import annotations

import weakref

import numpy as np

from xlite import errors
from xlite.frontend.graph import Tensor
from xlite.frontend.slice_spec import strided_slice_spec
from xlite.frontend.string_ops import bytes_array
from xlite.runtime.feeds import validate_feed
from xlite.ir import dtypes


_fetches_host: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()    # Graph -> {fetch key: bool}


class NotOnHost(Exception):
    """The value of a tensor the executable computes, asked for before it ran."""


def is_host_tensor(t: Tensor) -> bool:
    """Whether the host makes `t`'s value (a string, or an output of a host op)."""
    return t.dtype is dtypes.string or getattr(t.op, "_host_compute", None) is not None


class HostValues:
    """The host values of one run: `value(t)` evaluates the host ops `t` needs, once each."""

    def __init__(self, session, feeds: dict, computed: dict | None = None):
        self.session = session
        self.values: dict = dict(feeds)
        self.computed = computed or {}

    def value(self, t: Tensor):
        if t in self.values:
            return self.values[t]
        if t in self.computed:
            return self.computed[t]
        op = t.op
        compute = host_compute(op)
        if compute is not None:
            try:
                outputs = compute([self.value(i) for i in op.inputs])
            except errors.OpError as e:
                if e.op is not None:
                    raise
                raise type(e)(None, op, e.message) from None
            self.values.update(zip(op.outputs, outputs))
            return self.values[t]
        provider = getattr(op, "_host_provider", None)
        if provider is not None and hasattr(provider, "last"):
            return provider.last(self.session)[t.value_index]
        if t.dtype is dtypes.string:
            if op.type in ("Placeholder", "PlaceholderWithDefault") and not op.inputs:
                raise errors.InvalidArgumentError(
                    None, op, f"You must feed a value for placeholder tensor '{op.name}' with dtype string")
            raise errors.unimplemented(f"{op.type} '{op.name}' of tf.string values: xlite runs string ops on "
                                       "the host only (tf.strings, tf.data's string components)")
        if op.type == "Const":
            return op.attrs["value"]
        raise NotOnHost(t)


def host_compute(op):
    """How the host computes `op`'s outputs from its inputs' values: a host op's own function, or
    NumPy's for an op that only moves strings (tf.identity, reshape, expand_dims, squeeze, stack,
    concat, gather, x[...] of a tf.string tensor); None for an op the executable computes."""
    compute = getattr(op, "_host_compute", None)
    if compute is None and op.outputs and op.outputs[0].dtype is dtypes.string and op.type in _MOVES:
        return lambda values: [bytes_array(_MOVES[op.type](op, *values))]
    return compute


def _gather(op, params, indices, axis):
    if op.attrs.get("batch_dims", 0):
        raise errors.unimplemented(f"GatherV2 '{op.name}' of strings with batch_dims")
    indices = np.asarray(indices)
    if indices.size and (indices.min() < -0 or indices.max() >= params.shape[int(axis)]):
        raise errors.InvalidArgumentError(None, op, f"indices = {indices.reshape(-1).tolist()} is not in "
                                                    f"[0, {params.shape[int(axis)]})")
    return np.take(params, indices, axis=int(axis))


def _strided_slice(op, x, begin, end, strides):
    masks = {k: op.attrs.get(k, 0) for k in ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask",
                                             "shrink_axis_mask")}
    try:
        spec = strided_slice_spec(list(x.shape), *[np.asarray(v).reshape(-1).tolist() for v in (begin, end, strides)],
                                  **masks)
    except ValueError as e:
        raise errors.InvalidArgumentError(None, op, str(e)) from None
    axis = 0
    for d in spec.dims:
        if d.shrink:
            if not -x.shape[axis] <= d.start < x.shape[axis]:
                raise errors.InvalidArgumentError(None, op, f"slice index {d.start} of dimension {axis} out of "
                                                            "bounds.")
            x = np.take(x, d.start, axis=axis)
        else:
            x = np.take(x, d.start + d.step * np.arange(d.size, dtype=np.int64), axis=axis)
            axis += 1
    return np.asarray(x, dtype=object).reshape(spec.result_dims)


_MOVES = {
    "Identity": lambda op, x: x,
    "PlaceholderWithDefault": lambda op, x: x,      # when not fed
    "Reshape": lambda op, x, shape: np.reshape(x, [int(d) for d in np.asarray(shape).reshape(-1)]),
    "ExpandDims": lambda op, x, axis: np.expand_dims(x, int(axis)),
    "Squeeze": lambda op, x: np.squeeze(x, tuple(op.attrs["squeeze_dims"]) or None),
    "Pack": lambda op, *xs: np.stack(xs, op.attrs["axis"]),
    "ConcatV2": lambda op, *xs: np.concatenate(xs[:-1], int(xs[-1])),
    "GatherV2": _gather,
    "StridedSlice": _strided_slice,
}


def split_feeds(graph, feed_dict: dict) -> tuple[dict, dict]:
    """(the feeds of string tensors as byte arrays, by tensor; the other feeds, as given)."""
    strings, others = {}, {}
    for key, value in (feed_dict or {}).items():
        t = key if isinstance(key, Tensor) else _resolve(graph, key)
        if isinstance(t, Tensor) and t.dtype is dtypes.string:
            strings[t] = bytes_array(validate_feed(t, value))
        else:
            others[key] = value
    return strings, others


def numeric_feeds(graph, feed_dict: dict) -> dict:
    """The non-string feeds resolved to tensors (the values host ops may read)."""
    out = {}
    for key, value in (feed_dict or {}).items():
        t = key if isinstance(key, Tensor) else _resolve(graph, key)
        if isinstance(t, Tensor):
            out[t] = np.asarray(value, dtype=t.dtype.np)
    return out


def _resolve(graph, key):
    try:
        return graph.as_graph_element(key, allow_tensor=True, allow_operation=False)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None         # the run's own feed validation raises TF's error for the key


def fill_numeric(session, ops: list, feed_dict: dict, strings: dict) -> dict:
    """Feeds for the numeric outputs of the host ops in `ops` that the run's feeds and providers determine."""
    if not any(getattr(op, "_host_compute", None) is not None for op in ops):
        return {}               # a run of get_next only: nothing to compute
    values = HostValues(session, {**numeric_feeds(session.graph, feed_dict), **strings})
    filled = {}
    for op in ops:
        numeric = [t for t in op.outputs if t.dtype is not dtypes.string]
        if getattr(op, "_host_compute", None) is None or not numeric:
            continue
        try:
            filled.update((t, values.value(t)) for t in numeric)
        except NotOnHost:
            continue            # its lowering names the op if the executable needs its outputs
    return filled


def fetches_host(graph, fetches) -> bool:
    """Whether a fetch structure names a host-made tensor: worked out once per graph and fetch structure."""
    from xlite.runtime.fetches import FetchMapper
    from xlite.runtime.host_fed import run_key
    key = run_key(fetches)
    known = _fetches_host.setdefault(graph, {})
    if key is not None and key in known:
        return known[key]
    try:
        found = any(is_host_tensor(t) for t in FetchMapper(graph, fetches).unique_tensors())
    except (TypeError, ValueError):
        found = False           # the run itself raises TF's error for the fetch
    if key is not None:
        known[key] = found
    return found


def run(session, fetches, feed_dict, options=None, run_metadata=None):
    """Session.run of a fetch structure naming host-made tensors: one run of the executable for the
    other fetches and the computed numbers the host ops read, then the host ops."""
    from xlite.runtime.fetches import FetchMapper
    from xlite.runtime import host_fed
    graph = session.graph
    mapper = FetchMapper(graph, fetches)
    strings, others = split_feeds(graph, feed_dict)
    host = [t for t in mapper.unique_tensors() if is_host_tensor(t)]
    computed_inputs, providers = _sources(host, set(strings) | set(numeric_feeds(graph, others)))
    compiled = [t for t in mapper.unique_tensors() if not is_host_tensor(t)] + computed_inputs
    compiled = list({id(t): t for t in compiled}.values())
    inner_ops = set(host_fed.needed_host_ops(session, compiled + list(mapper.target_ops), others))
    for op in sorted(providers - inner_ops, key=lambda o: o._id):
        op._host_provider.next_value(session)       # a get_next only the strings of this run read
    results = session.run(compiled + list(mapper.target_ops), feed_dict, options, run_metadata) \
        if compiled or mapper.target_ops else []
    computed = dict(zip(compiled, results))
    values = HostValues(session, {**numeric_feeds(graph, others), **strings}, computed)
    return mapper.build({t: bytes_array(values.value(t)) if t.dtype is dtypes.string else values.value(t)
                         for t in mapper.unique_tensors()})


def _sources(host: list, fed: set) -> tuple[list, set]:
    """(the computed tensors the host tensors read, the host-provider ops they read)."""
    computed, providers, seen, stack = [], set(), set(), list(host)
    while stack:
        t = stack.pop()
        if t in seen or t in fed:
            continue
        seen.add(t)
        if host_compute(t.op) is not None:
            stack.extend(t.op.inputs)
        elif getattr(t.op, "_host_provider", None) is not None and hasattr(t.op._host_provider, "last"):
            providers.add(t.op)
        elif t.dtype is not dtypes.string and t.op.type != "Const":
            computed.append(t)
    return computed, providers


__all__ = ["HostValues", "NotOnHost", "host_compute", "is_host_tensor", "split_feeds", "fill_numeric", "fetches_host", "run"]
