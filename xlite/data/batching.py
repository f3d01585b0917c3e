"""Stages that regroup elements on the host: batch, padded_batch, unbatch and shuffle.

Batching stacks each component's arrays into one new array: the one copy an element's data makes on
its way to the compiled step (the iterator hands that array to the run as it is). The batch dim is
static (`batch_size`) only with `drop_remainder=True`, as TF infers it.
"""
from __future__ import annotations

import weakref
from typing import Iterator

import numpy as np

from xlite import errors
from xlite.data import structure
from xlite.data.dataset import Dataset
from xlite.data.structure import TensorSpec
from xlite.frontend import nest
from xlite.frontend.graph import Tensor, get_default_graph
from xlite.frontend.tensor_shape import TensorShape


def _batch_size(batch_size) -> int:
    n = int(batch_size)
    if n <= 0:
        raise errors.InvalidArgumentError(None, None, f"Batch size must be greater than zero, got {n}")
    return n


def _batched_cardinality(n: int, size: int, drop_remainder: bool) -> int:
    if n < 0:
        return n
    return n // size if drop_remainder else -(-n // size)


def _stack(items: list, spec: TensorSpec, component: int) -> np.ndarray:
    if spec.dtype is structure.string:
        out = np.empty((len(items),) + np.shape(items[0]), dtype=object)
        out[...] = [np.asarray(x, dtype=object) for x in items] if np.ndim(items[0]) else items
        return out
    if spec.shape.is_fully_defined():       # every element has the spec's shape: one copy, no checks
        dims = spec.shape.dims
        if not dims:
            return np.array(items, dtype=spec.dtype.np)
        return np.concatenate(items).reshape([len(items)] + list(dims))
    first = np.shape(items[0])
    for i, item in enumerate(items):
        if np.shape(item) != first:
            raise errors.InvalidArgumentError(
                None, None, f"Cannot batch tensors with different shapes in component {component}. First "
                            f"element had shape {list(first)} and element {i} had shape {list(np.shape(item))}.")
    return np.stack(items)


class Batch(Dataset):
    def __init__(self, input_: Dataset, batch_size, drop_remainder: bool = False):
        self._input = input_
        self._size = _batch_size(batch_size)
        self._drop = bool(drop_remainder)
        dim = self._size if self._drop else None
        self._spec = structure.map_specs(lambda s: TensorSpec(TensorShape([dim]).concatenate(s.shape), s.dtype),
                                         input_.element_spec)
        self._specs = nest.flatten(input_.element_spec)

    def _inputs(self):
        return [self._input]

    def _cardinality(self) -> int:
        return _batched_cardinality(self._input._cardinality(), self._size, self._drop)

    def _elements(self, env: dict) -> Iterator:
        specs, size = self._specs, self._size
        flatten, pack = structure.flattener(self._input.element_spec), structure.packer(self._spec)
        pending: list = []
        for element in self._input._elements(env):
            pending.append(flatten(element))
            if len(pending) == size:
                yield pack([_stack([e[c] for e in pending], s, c) for c, s in enumerate(specs)])
                pending = []
        if pending and not self._drop:
            yield pack([_stack([e[c] for e in pending], s, c) for c, s in enumerate(specs)])


class PaddedBatch(Dataset):
    """Each component padded (at the end of each dim) to `padded_shapes`, or to the batch's largest
    where a dim is None or -1."""

    def __init__(self, input_: Dataset, batch_size, padded_shapes=None, padding_values=None,
                 drop_remainder: bool = False):
        self._input = input_
        self._size = _batch_size(batch_size)
        self._drop = bool(drop_remainder)
        specs = nest.flatten(input_.element_spec)
        if padded_shapes is None:
            shapes = [TensorShape([None] * s.shape.ndims) if s.shape.ndims is not None else None for s in specs]
            if any(s is None for s in shapes):
                raise ValueError("You must provide `padded_shapes` argument because component has unknown rank.")
        else:
            shapes = [TensorShape([None if d is None or d == -1 else int(d) for d in _dims_of(p)])
                      for p in _flat_shapes(padded_shapes, input_.element_spec)]
        for s, p in zip(specs, shapes):
            if s.shape.ndims is not None and s.shape.ndims != p.ndims:
                raise ValueError(f"The padded shape {p} is not compatible with the shape {s.shape} of the "
                                 "corresponding input component.")
        self._pads = shapes
        if padding_values is None:
            values = [b"" if s.dtype is structure.string else np.zeros((), s.dtype.np) for s in specs]
        else:
            given = structure.normalize(padding_values, lists_are_tensors=True)
            flat = nest.flatten(given)
            values = flat * len(specs) if len(flat) == 1 else flat
            values = [np.asarray(_known(v), dtype=object if s.dtype is structure.string else s.dtype.np)
                      for v, s in zip(values, specs)]
        self._values = values
        self._specs = specs
        dim = self._size if self._drop else None
        self._spec = nest.pack_sequence_as(input_.element_spec, [
            TensorSpec(TensorShape([dim]).concatenate(p), s.dtype) for s, p in zip(specs, shapes)])

    def _inputs(self):
        return [self._input]

    def _cardinality(self) -> int:
        return _batched_cardinality(self._input._cardinality(), self._size, self._drop)

    def _pad(self, items: list, c: int) -> np.ndarray:
        pad, spec = self._pads[c], self._specs[c]
        arrays = [np.asarray(x, dtype=object if spec.dtype is structure.string else None) for x in items]
        dims = [max(a.shape[d] for a in arrays) if pad.dims[d] is None else pad.dims[d] for d in range(pad.ndims)]
        out = np.empty([len(arrays)] + dims, dtype=object if spec.dtype is structure.string else spec.dtype.np)
        out[...] = self._values[c]
        for i, a in enumerate(arrays):
            if any(a.shape[d] > dims[d] for d in range(len(dims))):
                raise errors.InvalidArgumentError(
                    None, None, f"Attempted to pad to a smaller size than the input element. Component {c} "
                                f"has shape {list(a.shape)}; padded shape is {dims}.")
            out[(i,) + tuple(slice(0, n) for n in a.shape)] = a
        return out

    def _elements(self, env: dict) -> Iterator:
        pending: list = []
        n = len(self._specs)
        for element in self._input._elements(env):
            pending.append(nest.flatten(element))
            if len(pending) == self._size:
                yield nest.pack_sequence_as(self._spec, [self._pad([e[c] for e in pending], c) for c in range(n)])
                pending = []
        if pending and not self._drop:
            yield nest.pack_sequence_as(self._spec, [self._pad([e[c] for e in pending], c) for c in range(n)])


def _known(value):
    """A padding value: a constant graph tensor's value, or the value itself."""
    if isinstance(value, Tensor):
        if value._static_value is None:
            raise errors.unimplemented("padded_batch with padding_values computed at run time")
        return value._static_value
    return value


def _dims_of(shape) -> list:
    if isinstance(shape, TensorShape):
        return list(shape.dims)
    return list(np.asarray(shape).reshape(-1)) if not isinstance(shape, (list, tuple)) else list(shape)


def _flat_shapes(padded_shapes, spec) -> list:
    """padded_shapes written as the element's structure with a list of dims per component."""
    if not nest.is_sequence(spec):
        return [padded_shapes]
    out = []
    items = [padded_shapes[k] for k in sorted(padded_shapes)] if isinstance(padded_shapes, dict) else padded_shapes
    children = [spec[k] for k in sorted(spec)] if isinstance(spec, dict) else list(spec)
    for p, s in zip(items, children):
        out.extend(_flat_shapes(p, s))
    return out


class Unbatch(Dataset):
    def __init__(self, input_: Dataset):
        self._input = input_
        specs = nest.flatten(input_.element_spec)
        for s in specs:
            if s.shape.ndims == 0:
                raise ValueError("Cannot unbatch an input with scalar components.")
        self._spec = structure.map_specs(lambda s: TensorSpec(
            TensorShape(None) if s.shape.ndims is None else TensorShape(s.shape.dims[1:]), s.dtype),
            input_.element_spec)

    def _inputs(self):
        return [self._input]

    def _elements(self, env: dict) -> Iterator:
        for element in self._input._elements(env):
            flat = [np.asarray(v) for v in nest.flatten(element)]
            n = flat[0].shape[0]
            if any(a.shape[0] != n for a in flat):
                raise errors.InvalidArgumentError(
                    None, None, "Input element must have the same batch size in each component.")
            for i in range(n):
                yield nest.pack_sequence_as(self._spec, [a[i] for a in flat])


_UNSEEDED: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()    # graph -> unseeded shuffles made


class Shuffle(Dataset):
    """TF's buffer semantics: a buffer of `buffer_size` elements; each output is a uniformly chosen
    element of it, whose place the next input element takes. A seed (or a graph-level seed) makes the
    orders deterministic from run to run; `reshuffle_each_iteration` (default True) gives each pass
    over the dataset its own order."""

    def __init__(self, input_: Dataset, buffer_size, seed=None, reshuffle_each_iteration=None):
        self._input = input_
        self._buffer = int(buffer_size)
        if self._buffer <= 0 and self._buffer != -1:
            raise errors.InvalidArgumentError(None, None, f"buffer_size must be greater than zero.")
        self._spec = input_.element_spec
        self._reshuffle = True if reshuffle_each_iteration is None else bool(reshuffle_each_iteration)
        graph = get_default_graph()
        if seed is None and graph.seed is not None:     # as TF: the graph seed and the op's own count
            count = _UNSEEDED.get(graph, 0)
            _UNSEEDED[graph] = count + 1
            seed = (graph.seed * 1000003 + 87654321 + 7919 * count) % (2 ** 63)
        self._seed = int(seed) if seed is not None else int(np.random.SeedSequence().entropy % (2 ** 63))
        self._passes = 0

    def _inputs(self):
        return [self._input]

    def _cardinality(self) -> int:
        return self._input._cardinality()

    def _elements(self, env: dict) -> Iterator:
        epoch = self._passes if self._reshuffle else 0
        self._passes += 1
        rng = np.random.default_rng([self._seed, epoch])
        source = self._input._elements(env)
        size = self._buffer if self._buffer > 0 else None
        buffer: list = []
        for element in source:
            buffer.append(element)
            if size is not None and len(buffer) >= size:
                break
        draws = _Uniforms(rng)
        for element in source:
            i = int(draws.next() * len(buffer))
            yield buffer[i]
            buffer[i] = element
        while buffer:
            i = int(draws.next() * len(buffer))
            buffer[i], buffer[-1] = buffer[-1], buffer[i]
            yield buffer.pop()


class _Uniforms:
    """Uniform [0, 1) draws made a block at a time (one NumPy call per element would dominate)."""

    def __init__(self, rng: np.random.Generator):
        self._rng, self._block, self._at = rng, np.empty(0), 0

    def next(self) -> float:
        if self._at == len(self._block):
            self._block, self._at = self._rng.random(1024).tolist(), 0
        self._at += 1
        return self._block[self._at - 1]


__all__ = ["Batch", "PaddedBatch", "Unbatch", "Shuffle"]
