"""tf.TensorSpec: the dtype and (possibly partial) shape a tf.function input may have.

An `input_signature` of TensorSpecs makes a tf.function trace once for every value that fits:
a `None` dim stays `None` in the trace graph's placeholder.
"""
from __future__ import annotations

from xlite.frontend.tensor_shape import TensorShape
from xlite.ir import dtypes


class TensorSpec:
    """Describes a tensor by shape, dtype and an optional name, like TF's."""

    __slots__ = ("_shape", "_dtype", "_name")

    def __init__(self, shape, dtype=dtypes.float32, name: str | None = None):
        self._shape = TensorShape(shape)
        self._dtype = dtypes.as_dtype(dtype)
        self._name = name

    @classmethod
    def from_tensor(cls, tensor, name: str | None = None) -> "TensorSpec":
        """The spec of a graph or eager tensor (its static shape and dtype)."""
        return cls(tensor.shape, tensor.dtype, name or getattr(tensor, "name", None))

    @property
    def shape(self) -> TensorShape:
        return self._shape

    @property
    def dtype(self) -> dtypes.DType:
        return self._dtype

    @property
    def name(self) -> str | None:
        return self._name

    def is_compatible_with(self, value) -> bool:
        """Whether a tensor or spec of `value`'s dtype and shape fits this spec."""
        return (dtypes.as_dtype(value.dtype) == self._dtype
                and self._shape.is_compatible_with(TensorShape(value.shape)))

    def most_specific_common_supertype(self, others) -> "TensorSpec | None":
        """The most specific spec this one and each of `others` fit (dims that differ become None, a rank
        that differs an unknown shape), or None where a dtype or a name differs, as TF's."""
        shape = self._shape
        for other in others:
            if not isinstance(other, TensorSpec) or other._dtype != self._dtype or other._name != self._name:
                return None
            shape = _relaxed(shape, other._shape)
        return TensorSpec(shape, self._dtype, self._name)

    def most_specific_compatible_type(self, other: "TensorSpec") -> "TensorSpec":
        """TF's older spelling: the common supertype, or ValueError when there is none."""
        common = self.most_specific_common_supertype([other])
        if common is None:
            raise ValueError(f"No TypeSpec is compatible with both {self!r} and {other!r}")
        return common

    def _key(self) -> tuple:
        return (self._dtype.name, self._shape._dims)

    def __eq__(self, other) -> bool:
        return isinstance(other, TensorSpec) and self._key() == other._key() and self._name == other._name

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"TensorSpec(shape={self._shape}, dtype=tf.{self._dtype.name}, name={self._name!r})"


def _relaxed(a: TensorShape, b: TensorShape) -> TensorShape:
    """The most specific shape both `a` and `b` fit."""
    if a.ndims is None or b.ndims is None or a.ndims != b.ndims:
        return TensorShape(None)
    return TensorShape([x if x == y else None for x, y in zip(a.dims, b.dims)])
