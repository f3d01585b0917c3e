"""Per-element transformations: map, filter, flat_map/interleave, take, skip, repeat, enumerate, zip,
concatenate and cache, with TF's semantics (order, cardinality, end of input).

`map` and `filter` compute through traced functions (xlite/data/functions.py): compiled code per
element. `num_parallel_calls` runs a map on a thread pool, keeping a window of calls in flight and
handing elements on in input order (TF's deterministic order; `deterministic=False` is allowed any
order, and this one is as good as any).
"""
from __future__ import annotations

import collections
import concurrent.futures
import os
import pickle
from typing import Iterator

import numpy as np

from xlite import errors
from xlite.data import structure
from xlite.data.dataset import AUTOTUNE, INFINITE, UNKNOWN, Dataset
from xlite.data.functions import TracedFunction, check_predicate
from xlite.data.sources import TensorSlices
from xlite.frontend import nest
from xlite.frontend.graph import Tensor


def _threads(num_parallel_calls) -> int:
    if num_parallel_calls is None:
        return 1
    n = int(num_parallel_calls)
    if n == AUTOTUNE:
        return max(1, os.cpu_count() or 1)
    if n < 1:
        raise ValueError(f"num_parallel_calls must be positive or tf.data.AUTOTUNE, got {n}")
    return n


class Map(Dataset):
    def __init__(self, input_: Dataset, map_func, num_parallel_calls=None, deterministic=None):
        self._input = input_
        self._fn = TracedFunction(map_func, input_.element_spec, "Dataset.map()")
        if self._fn.output_spec is None:
            raise TypeError("The function passed to Dataset.map() returned a Dataset; use flat_map or interleave.")
        self._spec = self._fn.output_spec
        self._threads = _threads(num_parallel_calls)

    def _inputs(self):
        return [self._input]

    def _cardinality(self) -> int:
        return self._input._cardinality()

    def _tensors(self):
        return [outer for outer, _ in self._fn.captures]

    def _elements(self, env: dict) -> Iterator:
        fn, source = self._fn.bind(env), self._input._elements(env)
        chunked = self._fn.vectorized()
        if chunked is not None:
            yield from self._chunks(chunked, source, env)
            return
        if self._threads == 1:
            for element in source:
                yield fn(element)
            return
        with concurrent.futures.ThreadPoolExecutor(self._threads, thread_name_prefix="xlite-data-map") as pool:
            window: collections.deque = collections.deque()
            try:
                for element in source:
                    window.append(pool.submit(fn, element))
                    if len(window) >= 2 * self._threads:
                        yield window.popleft().result()
                while window:
                    yield window.popleft().result()
            finally:
                for future in window:
                    future.cancel()


    def _chunks(self, chunked, source: Iterator, env: dict) -> Iterator:
        """Runs of CHUNK elements through the vectorized function (with num_parallel_calls, several chunks
        at once on a thread pool, handed on in order); a chunk whose run raises is run again element by
        element, so an error surfaces at the element that caused it."""
        pack, spec = structure.packer(self._spec), self._input.element_spec
        chunks = self._chunk_parts(source, env)
        if self._threads == 1:
            for parts in chunks:
                yield from _rows(self._fn, parts, _try_chunk(chunked, parts), pack, spec)
            return
        with concurrent.futures.ThreadPoolExecutor(self._threads, thread_name_prefix="xlite-data-map") as pool:
            window: collections.deque = collections.deque()
            try:
                for parts in chunks:
                    window.append((parts, pool.submit(_try_chunk, chunked, parts)))
                    if len(window) >= self._threads:
                        parts, future = window.popleft()
                        yield from _rows(self._fn, parts, future.result(), pack, spec)
                while window:
                    parts, future = window.popleft()
                    yield from _rows(self._fn, parts, future.result(), pack, spec)
            finally:
                for _, future in window:
                    future.cancel()

    def _chunk_parts(self, source: Iterator, env: dict) -> Iterator[list]:
        """The input in chunks: one array (or list of rows) per component."""
        if isinstance(self._input, TensorSlices):      # chunks are slices of the source: no copy
            arrays = self._input.arrays(env)
            for start in range(0, len(arrays[0]), CHUNK):
                yield [a[start:start + CHUNK] for a in arrays]
            return
        flatten = structure.flattener(self._input.element_spec)
        pending: list = []
        for element in source:
            pending.append(flatten(element))
            if len(pending) == CHUNK:
                yield _stacked(pending)
                pending = []
        if pending:
            yield _stacked(pending)


CHUNK = 256


def _stacked(pending: list) -> list:
    """The chunk's components stacked; elements of unequal shapes stay a list of rows each."""
    parts = []
    for c in range(len(pending[0])):
        rows = [e[c] for e in pending]
        try:
            parts.append(np.stack(rows))
        except ValueError:
            parts.append(_Rows(rows))
    return parts


class _Rows(list):
    """A component whose rows differ in shape: `_run_chunk` runs such a chunk element by element."""
    dtype = None


def _try_chunk(chunked, parts: list):
    """The chunk's outputs, or None where the chunk must run element by element (an element's error,
    strings, or elements of unequal shapes)."""
    if any(isinstance(p, _Rows) or p.dtype == object for p in parts):
        return None
    try:
        return chunked(parts)
    except errors.OpError:
        return None


def _rows(fn, parts: list, outputs, pack, input_spec) -> Iterator:
    """The chunk's elements: rows of its outputs, or each element run on its own."""
    if outputs is None:
        for i in range(len(parts[0])):
            yield fn(nest.pack_sequence_as(input_spec, [p[i] for p in parts]))
        return
    for i in range(len(parts[0])):
        yield pack([o[i] for o in outputs])


class Filter(Dataset):
    def __init__(self, input_: Dataset, predicate):
        self._input = input_
        self._fn = TracedFunction(predicate, input_.element_spec, "Dataset.filter()")
        check_predicate(self._fn)
        self._spec = input_.element_spec

    def _inputs(self):
        return [self._input]

    def _cardinality(self) -> int:
        return UNKNOWN          # as TF: even a filter of an infinite dataset may end

    def _tensors(self):
        return [outer for outer, _ in self._fn.captures]

    def _elements(self, env: dict) -> Iterator:
        fn = self._fn.bind(env)
        for element in self._input._elements(env):
            if fn(element):
                yield element


class Interleave(Dataset):
    """interleave (flat_map is cycle_length=1): TF's InterleaveDataset order, sequentially."""

    def __init__(self, input_: Dataset, map_func, cycle_length=None, block_length=None):
        self._input = input_
        self._fn = TracedFunction(map_func, input_.element_spec, "Dataset.interleave()")
        inner = self._fn.returned
        if not isinstance(inner, Dataset):
            raise TypeError(f"The function passed to flat_map/interleave must return a Dataset, got {inner!r}")
        self._inner = inner
        self._inner_tensors = inner.graph_tensors()
        self._spec = inner.element_spec
        self._cycle = _threads(AUTOTUNE if cycle_length is None else cycle_length)
        self._block = 1 if block_length is None else int(block_length)
        if self._block < 1:
            raise ValueError("block_length must be positive")

    def _inputs(self):
        return [self._input]

    def _tensors(self):
        return [outer for outer, _ in self._fn.captures]

    def _open(self, fn, element) -> Iterator:
        values = fn.evaluate(self._inner_tensors, element)
        return self._inner._elements(dict(zip(self._inner_tensors, values)))

    def _elements(self, env: dict) -> Iterator:
        source, fn = self._input._elements(env), self._fn.bind(env)
        cycle: list = [None] * self._cycle
        index = block = opened = 0
        end_of_input = False
        while not end_of_input or opened:
            current = cycle[index]
            if current is not None:
                try:
                    value = next(current)
                except StopIteration:
                    cycle[index], opened = None, opened - 1
                    index, block = (index + 1) % self._cycle, 0
                    continue
                block += 1
                if block == self._block:
                    index, block = (index + 1) % self._cycle, 0
                yield value
            elif not end_of_input:
                try:
                    element = next(source)
                except StopIteration:
                    end_of_input = True
                    continue
                cycle[index], opened = self._open(fn, element), opened + 1
            else:
                index, block = (index + 1) % self._cycle, 0


def _count_arg(count):
    """A count given as a number, or as a graph tensor read when the pass starts."""
    return count if isinstance(count, Tensor) else int(count)


class _Counted(Dataset):
    """A stage with a count (take, skip, repeat) that may be a graph tensor; unknown until a pass."""

    def __init__(self, input_: Dataset, count):
        self._input, self._arg = input_, _count_arg(count)
        self._count = -2 if isinstance(self._arg, Tensor) else self._arg
        self._spec = input_.element_spec

    def _inputs(self):
        return [self._input]

    def _tensors(self):
        return [self._arg] if isinstance(self._arg, Tensor) else []

    def _resolve(self, env: dict) -> int:
        return int(env[self._arg]) if isinstance(self._arg, Tensor) else self._arg

    def _cardinality(self) -> int:
        return UNKNOWN if isinstance(self._arg, Tensor) else self._known_cardinality()


class Take(_Counted):

    def _known_cardinality(self) -> int:
        n = self._input._cardinality()
        if self._count < 0:
            return n
        if n == INFINITE:
            return self._count
        return UNKNOWN if n == UNKNOWN else min(n, self._count)

    def _elements(self, env: dict) -> Iterator:
        count = self._resolve(env)
        if count == 0:
            return
        for i, element in enumerate(self._input._elements(env)):
            yield element
            if i + 1 == count:
                return


class Skip(_Counted):
    def _known_cardinality(self) -> int:
        n = self._input._cardinality()
        if n < 0:
            return n
        return 0 if self._count < 0 else max(0, n - self._count)

    def _elements(self, env: dict) -> Iterator:
        count = self._resolve(env)
        for i, element in enumerate(self._input._elements(env)):
            if count < 0 or i < count:
                continue
            yield element


class Shard(Dataset):
    """Every num_shards-th element starting at index: one worker's part of a dataset (tf.data's shard)."""

    def __init__(self, input_: Dataset, num_shards, index):
        self._input = input_
        self._shards, self._index = int(num_shards), int(index)
        if self._shards < 1:
            raise errors.InvalidArgumentError(None, None, f"Number of shards must be greater than zero "
                                                          f"(currently num_shards = {self._shards}).")
        if not 0 <= self._index < self._shards:
            raise errors.InvalidArgumentError(None, None, f"Index must be between 0 and {self._shards - 1} "
                                                          f"(currently index = {self._index}).")
        self._spec = input_.element_spec

    def _inputs(self):
        return [self._input]

    def _cardinality(self) -> int:
        n = self._input._cardinality()
        if n < 0:
            return n
        return n // self._shards + (1 if self._index < n % self._shards else 0)

    def _elements(self, env: dict) -> Iterator:
        for i, element in enumerate(self._input._elements(env)):
            if i % self._shards == self._index:
                yield element


class Repeat(_Counted):
    def __init__(self, input_: Dataset, count=None):
        super().__init__(input_, -1 if count is None else count)

    def _known_cardinality(self) -> int:
        n = self._input._cardinality()
        if self._count == 0 or n == 0:
            return 0
        if self._count < 0:
            return INFINITE if n != UNKNOWN else UNKNOWN
        return n * self._count if n >= 0 else n

    def _elements(self, env: dict) -> Iterator:
        epoch, count = 0, self._resolve(env)
        while count < 0 or epoch < count:
            empty = True
            for element in self._input._elements(env):
                empty = False
                yield element
            if empty:               # TF: repeating an empty dataset ends rather than spinning
                return
            epoch += 1


class Zip(Dataset):
    def __init__(self, datasets):
        datasets = structure.normalize(datasets, lists_are_tensors=False)
        self._structure = datasets
        self._datasets = nest.flatten(datasets)
        if not self._datasets or not all(isinstance(d, Dataset) for d in self._datasets):
            raise TypeError("Dataset.zip() takes a (nested) structure of datasets")
        self._spec = nest.pack_sequence_as(datasets, [d.element_spec for d in self._datasets])

    def _inputs(self):
        return list(self._datasets)

    def _cardinality(self) -> int:
        ns = [d._cardinality() for d in self._datasets]
        known = [n for n in ns if n >= 0]
        if known:
            return min(known)
        return UNKNOWN if UNKNOWN in ns else INFINITE

    def _elements(self, env: dict) -> Iterator:
        iterators = [d._elements(env) for d in self._datasets]
        while True:
            items = []
            for it in iterators:
                try:
                    items.append(next(it))
                except StopIteration:
                    return
            yield nest.pack_sequence_as(self._structure, items)


def Enumerate(input_: Dataset, start=0) -> Dataset:      # noqa: N802 (a stage, as TF writes it)
    from xlite.data.sources import Range
    return Zip((Range(int(start), np.iinfo(np.int64).max), input_))


class Concatenate(Dataset):
    def __init__(self, first: Dataset, second: Dataset):
        a, b = first.element_spec, second.element_spec
        if not nest.same_structure(a, b, check_types=False):
            raise TypeError(f"Incompatible dataset elements:\n  {a} vs.\n  {b}")
        specs = [x.most_specific_common_supertype([y]) for x, y in zip(nest.flatten(a), nest.flatten(b))]
        if None in specs:
            raise TypeError(f"Incompatible dataset elements:\n  {a} vs.\n  {b}")
        self._first, self._second = first, second
        self._spec = nest.pack_sequence_as(a, specs)

    def _inputs(self):
        return [self._first, self._second]

    def _cardinality(self) -> int:
        a, b = self._first._cardinality(), self._second._cardinality()
        if INFINITE in (a, b):
            return INFINITE
        return a + b if a >= 0 and b >= 0 else UNKNOWN

    def _elements(self, env: dict) -> Iterator:
        yield from self._first._elements(env)
        yield from self._second._elements(env)


class Cache(Dataset):
    """cache(): the first complete pass is kept (in memory, or in `filename` and its `.index` marker) and
    later passes read it instead of the input. A pass cut short keeps nothing, as in TF."""

    def __init__(self, input_: Dataset, filename: str = ""):
        self._input, self._filename = input_, os.fsdecode(filename)
        self._spec = input_.element_spec
        self._memory: dict = {}        # key of the environment's values -> (the values, the elements)

    def _inputs(self):
        return [self._input]

    def _cardinality(self) -> int:
        return self._input._cardinality()

    def _key(self, env: dict) -> tuple:
        values = [env[t] for t in self.graph_tensors()]
        return tuple(id(v) for v in values), values

    def _elements(self, env: dict) -> Iterator:
        if self._filename:
            yield from self._file_elements(env)
            return
        key, values = self._key(env)
        hit = self._memory.get(key)
        if hit is not None:
            yield from hit[1]
            return
        kept = []
        for element in self._input._elements(env):
            kept.append(element)
            yield element
        self._memory = {key: (values, kept)}

    def _file_elements(self, env: dict) -> Iterator:
        index = self._filename + ".index"
        data = self._filename + ".data-00000-of-00001"
        if os.path.exists(index):
            with open(data, "rb") as f:
                elements = pickle.load(f)
            yield from (nest.pack_sequence_as(self._spec, flat) for flat in elements)
            return
        kept = []
        for element in self._input._elements(env):
            kept.append([np.asarray(v) for v in nest.flatten(element)])
            yield element
        try:
            with open(data, "wb") as f:
                pickle.dump(kept, f, protocol=pickle.HIGHEST_PROTOCOL)
            with open(index, "wb"):
                pass
        except OSError as e:
            raise errors.InvalidArgumentError(None, None, f"Failed to write the cache file {data}: {e}") from e


__all__ = ["Map", "Filter", "Interleave", "Take", "Skip", "Repeat", "Zip", "Enumerate", "Concatenate", "Cache"]
