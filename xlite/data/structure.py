"""Elements of a dataset: nested structures (tuples, dicts, namedtuples) of NumPy arrays, and their specs.

A dataset's `element_spec` is the same structure with a `TensorSpec` per leaf: the dtype and the static
shape every element has (`None` for a dim that varies, e.g. the batch dim of a remainder batch), tf.TensorSpec
itself (xlite/function/tensor_spec.py), so an element_spec is a tf.function input_signature. As in
TF, a Python list given to a source is one tensor, not a structure; a list a map function returns is a
tuple. Host stages move arrays only; the specs let graph-mode iterators give `get_next()` TF's static
shapes.
"""
from __future__ import annotations

import numpy as np

from xlite.frontend import nest
from xlite.frontend.graph import Tensor
from xlite.frontend.tensor_shape import TensorShape
from xlite.function.tensor_spec import TensorSpec
from xlite.ir import dtypes


# TF's tf.string, for host stages only (file names, text lines): no executable takes one, so a string
# component is an object array of bytes that only host stages move.
string = dtypes.string


def dtype_of(array: np.ndarray) -> dtypes.DType:
    if array.dtype.kind in "OSU":
        return string
    return dtypes.as_dtype(array.dtype)


def as_dtype(value) -> dtypes.DType:
    if value is string or value in ("string", str, bytes):
        return string
    return dtypes.as_dtype(value)


def normalize(structure, lists_are_tensors: bool = True):
    """A source's value as a structure: lists are one tensor (as TF's sources read them) or, for what a
    map function returns, tuples. Eager tensors become their arrays."""
    if getattr(type(structure), "_is_eager", False):     # an EagerTensor (xlite/eager/tensor.py)
        return structure.numpy()
    if isinstance(structure, dict):
        return type(structure)((k, normalize(v, lists_are_tensors)) for k, v in structure.items())
    if isinstance(structure, tuple):
        items = [normalize(v, lists_are_tensors) for v in structure]
        return type(structure)(*items) if hasattr(structure, "_fields") else tuple(items)
    if isinstance(structure, list):
        if not lists_are_tensors:
            return tuple(normalize(v, lists_are_tensors) for v in structure)
        if any(isinstance(v, Tensor) for v in nest.flatten(structure)):
            from xlite.frontend.join_ops import stack      # a list of graph tensors is their stack, as in TF
            return stack(structure)
        return to_array(structure)
    return structure


def to_array(value, dtype=None) -> np.ndarray:
    """A leaf as an array of a dtype xlite has (Python floats are float32, ints int32, as in TF)."""
    if dtype is not None:
        return np.asarray(value, dtype=as_dtype(dtype).np)
    if isinstance(value, Tensor):
        raise TypeError(f"expected a value, got the graph tensor {value.name}")
    array = np.asarray(value)
    if array.dtype.kind in "OSU":
        return _bytes_array(array)
    if not isinstance(value, (np.ndarray, np.generic)):
        if array.dtype == np.float64:
            array = array.astype(np.float32)
        elif array.dtype == np.int64:
            array = array.astype(np.int32)
    dtypes.as_dtype(array.dtype)        # raises for a dtype xlite has not got
    return array


def _bytes_array(array: np.ndarray) -> np.ndarray:
    out = np.empty(array.shape, dtype=object)
    for index, item in np.ndenumerate(array):
        out[index] = item.encode() if isinstance(item, str) else bytes(item)
    return out


def spec_of_array(array: np.ndarray, batched: bool = False) -> TensorSpec:
    """The spec of one component (of its slices, when `batched`)."""
    shape = array.shape[1:] if batched else array.shape
    return TensorSpec(shape, dtype_of(array))


def spec_of_tensor(t: Tensor, batched: bool = False) -> TensorSpec:
    shape = t.shape
    if batched:
        if shape.ndims == 0:
            raise ValueError("Unbatching a tensor is only supported for rank >= 1")
        shape = TensorShape(None) if shape.ndims is None else TensorShape(shape.dims[1:])
    return TensorSpec(shape, t.dtype)


def flattener(spec):
    """A fast `nest.flatten` for elements of `spec` (a leaf, or a flat tuple of leaves, skip the walk)."""
    if isinstance(spec, TensorSpec):
        return lambda element: [element]
    if type(spec) is tuple and all(isinstance(s, TensorSpec) for s in spec):
        return list
    return nest.flatten


def packer(spec):
    """A fast `nest.pack_sequence_as(spec, flat)` for elements of `spec`."""
    if isinstance(spec, TensorSpec):
        return lambda flat: flat[0]
    if type(spec) is tuple and all(isinstance(s, TensorSpec) for s in spec):
        return tuple
    return lambda flat: nest.pack_sequence_as(spec, flat)


def flat_specs(spec) -> list[TensorSpec]:
    return nest.flatten(spec)


def map_specs(fn, spec):
    """`spec` with `fn` applied to each TensorSpec."""
    return nest.pack_sequence_as(spec, [fn(s) for s in nest.flatten(spec)])


def output_types(spec):
    return map_specs(lambda s: s.dtype, spec)


def output_shapes(spec):
    return map_specs(lambda s: s.shape, spec)


def flatten_up_to(spec, value) -> list:
    """`value`'s parts at the leaves of `spec` (a leaf of `spec` takes its part whole, list or not);
    TypeError where `value` does not nest like `spec`."""
    if isinstance(spec, TensorSpec):
        return [value]
    if isinstance(spec, dict):
        if not isinstance(value, dict) or sorted(value) != sorted(spec):
            raise TypeError(f"expected a dict with keys {sorted(spec)}")
        return [leaf for k in sorted(spec) for leaf in flatten_up_to(spec[k], value[k])]
    if not isinstance(value, (tuple, list)) or len(value) != len(spec):
        raise TypeError(f"expected a sequence of {len(spec)} parts")
    return [leaf for s, v in zip(spec, value) for leaf in flatten_up_to(s, v)]


__all__ = ["flatten_up_to", "string", "TensorSpec", "dtype_of", "as_dtype", "normalize", "to_array", "spec_of_array", "spec_of_tensor", "flat_specs",
           "map_specs", "output_types", "output_shapes"]
