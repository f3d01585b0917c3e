"""tf.data.Dataset: a small graph of pipeline stages, each a host-side iterator over elements.

A Dataset is a description: its `element_spec`, the datasets it reads (`_inputs`) and the graph
tensors it holds itself (`_tensors`: a placeholder-fed `from_tensor_slices`, a dataset a flat_map
function built from its argument). Iterating it needs those tensors' values, an *environment*
(`{Tensor: ndarray}`): an initializable iterator evaluates them with the feeds of its initializer's
run, a flat_map with the element it maps, Python iteration with a Session of their graph.
`_elements(env)` is each stage's generator; elements are nested structures of NumPy arrays, moved
(sliced, stacked, shuffled) on the host and computed on (map, filter) by compiled traced functions.
"""
from __future__ import annotations

from typing import Callable, Iterator

import numpy as np

from xlite import errors
from xlite.data import structure
from xlite.frontend import nest
from xlite.frontend.graph import Tensor
from xlite.function import eager_bridge

INFINITE = -1       # tf.data.INFINITE_CARDINALITY
UNKNOWN = -2        # tf.data.UNKNOWN_CARDINALITY
AUTOTUNE = -1       # tf.data.AUTOTUNE: xlite picks the number of threads / the buffer size


class ElementSpecProperties:
    """`element_spec` and the TF1 `output_types` / `output_shapes` / `output_classes`, read off `self._spec`;
    shared by Dataset and Iterator."""

    _spec = None

    @property
    def element_spec(self):
        return self._spec

    @property
    def output_types(self):
        return structure.output_types(self._spec)

    @property
    def output_shapes(self):
        return structure.output_shapes(self._spec)

    @property
    def output_classes(self):
        return structure.map_specs(lambda s: Tensor, self._spec)


class Dataset(ElementSpecProperties):
    """The base of every stage. Subclasses set `_spec` and implement `_elements(env)`."""

    _spec = None

    # what a stage is ------------------------------------------------------------------------------------
    def _inputs(self) -> list["Dataset"]:
        return []

    def _tensors(self) -> list[Tensor]:
        return []

    def _elements(self, env: dict) -> Iterator:
        raise NotImplementedError

    def _cardinality(self) -> int:
        return UNKNOWN

    def graph_tensors(self) -> list[Tensor]:
        """Every graph tensor this pipeline reads, its own and its inputs', each once."""
        seen: dict[int, Tensor] = {}
        for ds in [self] + [d for d in self._inputs()]:
            for t in (ds._tensors() if ds is self else ds.graph_tensors()):
                seen.setdefault(id(t), t)
        return list(seen.values())

    def cardinality(self):
        """The number of elements, INFINITE (-1) or UNKNOWN (-2), as an int64 scalar: an EagerTensor executing
        eagerly, a constant Tensor of the default graph while building one (TF's `DatasetCardinality`)."""
        n = np.int64(self._cardinality())
        if eager_bridge.executing_eagerly():
            return eager_bridge.to_eager(np.asarray(n))
        from xlite.frontend.convert import constant
        return constant(n, name="DatasetCardinality")

    def __len__(self) -> int:
        if not eager_bridge.executing_eagerly():
            raise TypeError("`tf.data.Dataset` only supports `len` in eager mode. Use "
                            "`tf.data.Dataset.cardinality()` instead.")
        n = self._cardinality()
        if n == INFINITE:
            raise TypeError("The dataset is infinite.")
        if n == UNKNOWN:
            raise TypeError("The dataset length is unknown.")
        return n

    def __repr__(self) -> str:
        return f"<{type(self).__name__} element_spec={self._spec}>"

    # iterating in Python ---------------------------------------------------------------------------------
    def __iter__(self) -> "DatasetIterator":
        """A fresh pass over the elements as EagerTensors (as TF2 gives); each `iter` starts over. Only
        executing eagerly, as in TF: a TF1 graph reads a dataset through an iterator's get_next()."""
        if eager_bridge.executing_eagerly():
            return DatasetIterator(self)
        if _in_trace():             # TF iterates in the graph (a `for` loop goes through AutoGraph's for_stmt)
            from xlite.data.graph_loop import GraphIterator
            return GraphIterator(self)
        raise RuntimeError("`tf.data.Dataset` only supports Python-style iteration in eager mode or within "
                           "tf.function.")

    def as_numpy_iterator(self) -> Iterator:
        """The elements as NumPy values: arrays, and NumPy scalars for 0-d components (as TF gives). Only
        executing eagerly, as in TF."""
        if not eager_bridge.executing_eagerly():
            raise RuntimeError("`tf.data.Dataset.as_numpy_iterator()` is only supported in eager mode.")
        return (nest.pack_sequence_as(element, [_numpy_value(v) for v in nest.flatten(element)])
                for element in host_elements(self))

    def _autograph_loop_elements(self, where: str):
        """What AutoGraph's for_stmt (below this package) loops over inside a trace (xlite/data/graph_loop.py)."""
        from xlite.data.graph_loop import stacked_elements
        return stacked_elements(self, where, tail=True)

    # TF1 iterators (xlite/data/iterators.py) -------------------------------------------------------------
    def make_one_shot_iterator(self):
        from xlite.data.iterators import make_one_shot_iterator
        return make_one_shot_iterator(self)

    def make_initializable_iterator(self, shared_name=None):
        from xlite.data.iterators import make_initializable_iterator
        return make_initializable_iterator(self, shared_name)

    # sources (xlite/data/sources.py) ---------------------------------------------------------------------
    @staticmethod
    def from_tensor_slices(tensors, name=None) -> "Dataset":
        from xlite.data.sources import TensorSlices
        return TensorSlices(tensors)

    @staticmethod
    def from_tensors(tensors, name=None) -> "Dataset":
        from xlite.data.sources import Tensors
        return Tensors(tensors)

    @staticmethod
    def range(*args, output_type=None, name=None) -> "Dataset":
        from xlite.data.sources import Range
        return Range(*args, output_type=output_type)

    @staticmethod
    def from_generator(generator, output_types=None, output_shapes=None, args=None,
                       output_signature=None, name=None) -> "Dataset":
        from xlite.data.sources import Generator
        return Generator(generator, output_types, output_shapes, args, output_signature)

    @staticmethod
    def zip(*datasets, name=None) -> "Dataset":
        from xlite.data.transforms import Zip
        if len(datasets) == 1 and not isinstance(datasets[0], Dataset):
            datasets = datasets[0]
        return Zip(datasets)

    @staticmethod
    def list_files(file_pattern, shuffle=None, seed=None, name=None) -> "Dataset":
        from xlite.data.sources import list_files
        return list_files(file_pattern, shuffle, seed)

    # transformations (xlite/data/transforms.py, batching.py) ---------------------------------------------
    def map(self, map_func: Callable, num_parallel_calls=None, deterministic=None, name=None) -> "Dataset":
        from xlite.data.transforms import Map
        return Map(self, map_func, num_parallel_calls, deterministic)

    def filter(self, predicate: Callable, name=None) -> "Dataset":
        from xlite.data.transforms import Filter
        return Filter(self, predicate)

    def flat_map(self, map_func: Callable, name=None) -> "Dataset":
        from xlite.data.transforms import Interleave
        return Interleave(self, map_func, cycle_length=1, block_length=1)

    def interleave(self, map_func: Callable, cycle_length=None, block_length=None, num_parallel_calls=None,
                   deterministic=None, name=None) -> "Dataset":
        from xlite.data.transforms import Interleave
        return Interleave(self, map_func, cycle_length, block_length)

    def take(self, count, name=None) -> "Dataset":
        from xlite.data.transforms import Take
        return Take(self, count)

    def skip(self, count, name=None) -> "Dataset":
        from xlite.data.transforms import Skip
        return Skip(self, count)

    def shard(self, num_shards, index, name=None) -> "Dataset":
        from xlite.data.transforms import Shard
        return Shard(self, num_shards, index)

    def repeat(self, count=None, name=None) -> "Dataset":
        from xlite.data.transforms import Repeat
        return Repeat(self, count)

    def enumerate(self, start=0, name=None) -> "Dataset":
        from xlite.data.transforms import Enumerate
        return Enumerate(self, start)

    def concatenate(self, dataset: "Dataset", name=None) -> "Dataset":
        from xlite.data.transforms import Concatenate
        return Concatenate(self, dataset)

    def cache(self, filename: str = "", name=None) -> "Dataset":
        from xlite.data.transforms import Cache
        return Cache(self, filename)

    def batch(self, batch_size, drop_remainder: bool = False, num_parallel_calls=None, deterministic=None,
              name=None) -> "Dataset":
        from xlite.data.batching import Batch
        return Batch(self, batch_size, drop_remainder)

    def padded_batch(self, batch_size, padded_shapes=None, padding_values=None, drop_remainder: bool = False,
                     name=None) -> "Dataset":
        from xlite.data.batching import PaddedBatch
        return PaddedBatch(self, batch_size, padded_shapes, padding_values, drop_remainder)

    def unbatch(self, name=None) -> "Dataset":
        from xlite.data.batching import Unbatch
        return Unbatch(self)

    def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=None, name=None) -> "Dataset":
        from xlite.data.batching import Shuffle
        return Shuffle(self, buffer_size, seed, reshuffle_each_iteration)

    def prefetch(self, buffer_size, name=None) -> "Dataset":
        from xlite.data.prefetch import Prefetch
        return Prefetch(self, buffer_size)

    def apply(self, transformation_func: Callable) -> "Dataset":
        return transformation_func(self)


class DatasetIterator:
    """What `iter(dataset)` gives: `next()`, and TF2's `get_next()` (OutOfRangeError at the end)."""

    def __init__(self, dataset: Dataset):
        self._elements = host_elements(dataset)
        self._spec = dataset.element_spec

    @property
    def element_spec(self):
        return self._spec

    def __iter__(self) -> "DatasetIterator":
        return self

    def __next__(self):
        element = next(self._elements)
        return nest.pack_sequence_as(self._spec, [eager_bridge.to_eager(np.asarray(v))
                                                  for v in nest.flatten(element)])

    def get_next(self):
        try:
            return next(self)
        except StopIteration:
            raise errors.OutOfRangeError(None, None, "End of sequence") from None

    def close(self) -> None:
        """Stops the pass (and its prefetch threads) before its end."""
        self._elements.close()


def _in_trace() -> bool:
    from xlite.frontend.graph import get_default_graph
    return hasattr(get_default_graph(), "capture")          # a FuncGraph (xlite/function/func_graph.py)


def host_elements(dataset: Dataset) -> Iterator:
    """A fresh pass over `dataset`'s elements as nested NumPy arrays, in any mode: for xlite's own callers
    that feed compiled steps from the host (Keras' fit, `xlite bench`), never the user's iteration."""
    return dataset._elements(host_environment(dataset.graph_tensors()))


def _numpy_value(value):
    value = np.asarray(value)
    return value[()] if value.ndim == 0 else value


def host_environment(tensors: list[Tensor]) -> dict:
    """Values of graph tensors read outside any Session run (Python iteration): constants as they are
    known, the rest by a run of a Session on their graph."""
    env, pending = {}, {}
    for t in tensors:
        if t._static_value is not None:
            env[t] = np.asarray(t._static_value)
        else:
            pending.setdefault(id(t.graph), []).append(t)
    for group in pending.values():
        from xlite.runtime.session import Session
        with Session(graph=group[0].graph) as sess:
            env.update(zip(group, [np.asarray(v) for v in sess.run(group)]))
    return env


def value_of(env: dict, leaf) -> np.ndarray:
    """A source's leaf in an environment: a graph tensor's value, or the array it is."""
    return env[leaf] if isinstance(leaf, Tensor) else leaf


def flat_values(env: dict, structure_) -> list:
    return [value_of(env, leaf) for leaf in nest.flatten(structure_)]


__all__ = ["Dataset", "INFINITE", "UNKNOWN", "AUTOTUNE", "host_elements", "host_environment"]
