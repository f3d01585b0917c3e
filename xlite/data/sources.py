"""Dataset sources: slices of tensors, a tensor, a range, a Python generator, files and their lines.

Values given as NumPy arrays (or Python lists and numbers) stay on the host as arrays: no graph
constant is made of a 60,000-image array. Graph tensors (a placeholder-fed source for an
initializable iterator, a flat_map argument) are held as tensors and read from the iteration's
environment.
"""
from __future__ import annotations

import glob
import os
import traceback
from typing import Iterator

import numpy as np

from xlite import errors
from xlite.data import structure
from xlite.data.dataset import UNKNOWN, Dataset, value_of
from xlite.data.structure import TensorSpec
from xlite.frontend import nest
from xlite.frontend.graph import Tensor
from xlite.ir import dtypes


def _leaves(tensors):
    """A source's value as a structure whose leaves are graph tensors or arrays."""
    value = structure.normalize(tensors, lists_are_tensors=True)
    flat = nest.flatten(value)
    if not flat:
        raise ValueError("Invalid input: the structure of tensors is empty.")
    leaves = [leaf if isinstance(leaf, Tensor) else structure.to_array(leaf) for leaf in flat]
    return value, leaves


class TensorSlices(Dataset):
    """from_tensor_slices: element i is the i-th slice of every component along its first dim."""

    def __init__(self, tensors):
        self._structure, self._flat = _leaves(tensors)
        specs = [structure.spec_of_tensor(leaf, batched=True) if isinstance(leaf, Tensor)
                 else _sliced_spec(leaf) for leaf in self._flat]
        self._spec = nest.pack_sequence_as(self._structure, specs)
        lengths = {_first_dim(leaf) for leaf in self._flat} - {None}
        if len(lengths) > 1:
            raise ValueError(f"Dimensions {sorted(lengths)} in the first dim of the components are not all equal.")
        self._n = lengths.pop() if lengths and all(_first_dim(x) is not None for x in self._flat) else None

    def _tensors(self) -> list[Tensor]:
        return [leaf for leaf in self._flat if isinstance(leaf, Tensor)]

    def _cardinality(self) -> int:
        return UNKNOWN if self._n is None else self._n

    def arrays(self, env: dict) -> list[np.ndarray]:
        """The components' arrays, checked to have equal first dims."""
        arrays = [np.asarray(value_of(env, leaf)) for leaf in self._flat]
        n = len(arrays[0]) if arrays[0].ndim else 0
        for a in arrays:
            if a.ndim == 0:
                raise errors.InvalidArgumentError(None, None, "Unbatching a tensor is only supported for rank >= 1")
            if len(a) != n:
                raise errors.InvalidArgumentError(None, None, "Dimension 0 in both shapes must be equal: "
                                                  f"{n} and {len(a)}")
        return arrays

    def _elements(self, env: dict) -> Iterator:
        arrays = self.arrays(env)
        n = len(arrays[0])
        if not nest.is_sequence(self._structure):
            yield from arrays[0]
            return
        pack = structure.packer(self._spec)
        for i in range(n):
            yield pack([a[i] for a in arrays])


def _sliced_spec(array: np.ndarray) -> TensorSpec:
    if array.ndim == 0:
        raise ValueError("Unbatching a tensor is only supported for rank >= 1")
    return structure.spec_of_array(array, batched=True)


def _first_dim(leaf):
    if isinstance(leaf, Tensor):
        return leaf.shape.dims[0] if leaf.shape.ndims else None
    return leaf.shape[0]


class Tensors(Dataset):
    """from_tensors: the whole structure as one element."""

    def __init__(self, tensors):
        self._structure, self._flat = _leaves(tensors)
        specs = [structure.spec_of_tensor(leaf) if isinstance(leaf, Tensor) else structure.spec_of_array(leaf)
                 for leaf in self._flat]
        self._spec = nest.pack_sequence_as(self._structure, specs)

    def _tensors(self) -> list[Tensor]:
        return [leaf for leaf in self._flat if isinstance(leaf, Tensor)]

    def _cardinality(self) -> int:
        return 1

    def _elements(self, env: dict) -> Iterator:
        yield nest.pack_sequence_as(self._structure, [value_of(env, leaf) for leaf in self._flat])


class Range(Dataset):
    """Dataset.range(stop) / (start, stop[, step]): int64 scalars (or `output_type`). The bounds may be
    graph tensors (a flat_map's argument), read from the iteration's environment."""

    def __init__(self, *args, output_type=None):
        if not 1 <= len(args) <= 3:
            raise ValueError("Invalid arguments to Dataset.range: expected 1 to 3 arguments")
        self._args = (0, args[0], 1) if len(args) == 1 else (*args, 1)[:3]
        if not isinstance(self._args[2], Tensor) and int(self._args[2]) == 0:
            raise errors.InvalidArgumentError(None, None, "step must be a non-zero integer.")
        self._dtype = dtypes.as_dtype(output_type or dtypes.int64)
        self._spec = TensorSpec([], self._dtype)

    def _tensors(self) -> list[Tensor]:
        return [a for a in self._args if isinstance(a, Tensor)]

    def _cardinality(self) -> int:
        if self._tensors():
            return UNKNOWN
        return len(range(*(int(a) for a in self._args)))

    def _elements(self, env: dict) -> Iterator:
        start, stop, step = (int(value_of(env, a)) for a in self._args)
        if step == 0:
            raise errors.InvalidArgumentError(None, None, "step must be a non-zero integer.")
        scalar = self._dtype.np.type
        for i in range(start, stop, step):
            yield scalar(i)


class Generator(Dataset):
    """from_generator: the values a fresh call of `generator(*args)` yields on each pass, converted to the
    declared dtypes and checked against the declared shapes."""

    def __init__(self, generator, output_types, output_shapes, args, output_signature):
        if not callable(generator):
            raise TypeError("`generator` must be a Python callable.")
        if output_signature is not None:
            if output_types is not None or output_shapes is not None:
                raise TypeError("The `output_types` and `output_shapes` arguments can only be used without "
                                "`output_signature`.")
            spec = structure.normalize(output_signature, lists_are_tensors=False)
        else:
            if output_types is None:
                raise TypeError("The `output_types` argument can not be None when `output_signature` is None.")
            types = structure.normalize(output_types, lists_are_tensors=False)
            if output_shapes is None:
                shapes = nest.pack_sequence_as(types, [None] * len(nest.flatten(types)))
            else:
                shapes = _shapes_structure(output_shapes, types)
            flat_shapes = nest.flatten(shapes) if nest.is_sequence(types) else [shapes]
            spec = nest.pack_sequence_as(types, [TensorSpec(s, structure.as_dtype(t)) for t, s in
                                                 zip(nest.flatten(types), flat_shapes)])
        self._spec = spec
        self._generator = generator
        self._args = tuple(args or ())

    def _tensors(self) -> list[Tensor]:
        return [a for a in self._args if isinstance(a, Tensor)]

    def _elements(self, env: dict) -> Iterator:
        args = [value_of(env, a) if isinstance(a, Tensor) else a for a in self._args]
        specs = nest.flatten(self._spec)
        iterator = iter(self._generator(*args))
        while True:
            try:
                value = next(iterator)
            except StopIteration:
                return
            except Exception as e:   # TF reports a generator's error at get_next as InvalidArgumentError
                raise errors.InvalidArgumentError(
                    None, None, f"{type(e).__name__}: {e}\nTraceback (most recent call last):\n"
                                + "".join(traceback.format_tb(e.__traceback__))) from e
            try:
                leaves = structure.flatten_up_to(self._spec, value)
            except TypeError:
                raise errors.InvalidArgumentError(
                    None, None, f"TypeError: `generator` yielded an element that did not match the expected "
                                f"structure. The expected structure was {self.output_types}, but the yielded "
                                f"element was {value!r}.") from None
            arrays = []
            for spec, leaf in zip(specs, leaves):
                try:
                    array = np.asarray(leaf, dtype=spec.dtype.np)
                except (TypeError, ValueError) as e:
                    raise errors.InvalidArgumentError(
                        None, None, f"TypeError: `generator` yielded an element that could not be converted "
                                    f"to the expected type. The expected type was {spec.dtype.name}, but the "
                                    f"yielded element was {leaf!r}.") from e
                if not spec.shape.is_compatible_with(array.shape):
                    raise errors.InvalidArgumentError(
                        None, None, f"`generator` yielded an element of shape {list(array.shape)} where an "
                                    f"element of shape {spec.shape} was expected.")
                arrays.append(array)
            yield nest.pack_sequence_as(self._spec, arrays)


def _shapes_structure(output_shapes, types):
    """output_shapes written as the structure of output_types (a tuple, dict or namedtuple of shapes)."""
    if not nest.is_sequence(types):
        return output_shapes
    return structure.normalize(output_shapes, lists_are_tensors=False) if isinstance(output_shapes, tuple) \
        else output_shapes


def list_files(file_pattern, shuffle=None, seed=None) -> Dataset:
    """The files matching a glob pattern (or list of them), as a dataset of names, shuffled by default."""
    patterns = [file_pattern] if isinstance(file_pattern, (str, bytes)) else list(file_pattern)
    names = sorted({name for p in patterns for name in glob.glob(os.fsdecode(p))})
    if not names:
        raise errors.InvalidArgumentError(None, None, f"Expected 'file_pattern' argument to match at least "
                                                      f"one file, but {file_pattern!r} matched none.")
    ds = TensorSlices(np.array([os.fsencode(n) for n in names], dtype=object))
    if shuffle is None or shuffle:
        ds = ds.shuffle(len(names), seed=seed)
    return ds


__all__ = ["TensorSlices", "Tensors", "Range", "Generator", "list_files"]
