"""tf.reverse_sequence: each batch row reversed in its first seq_lengths[row] steps, the rest left in place.

A composite of existing ops (a gather_nd of per-row time indices), so its gradient is gather_nd's: the
reversal applied to the incoming gradient."""
from __future__ import annotations

from xlite import errors
from xlite.frontend import array_ops, math_ops
from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.fill_ops import range as tf_range
from xlite.frontend.gather_ops import gather_nd
from xlite.frontend.graph import Tensor
from xlite.frontend.join_ops import stack
from xlite.frontend.shape_ops import shape
from xlite.ir import dtypes

__all__ = ["reverse_sequence"]


def reverse_sequence(input, seq_lengths, seq_axis=None, batch_axis=None, name=None, seq_dim=None,  # noqa: A002
                     batch_dim=None) -> Tensor:
    """Reverses input along seq_axis within each row's length (row = index along batch_axis)."""
    seq_axis = seq_dim if seq_axis is None else seq_axis
    batch_axis = batch_dim if batch_axis is None else batch_axis
    batch_axis = 0 if batch_axis is None else batch_axis
    if seq_axis is None:
        raise ValueError("reverse_sequence: seq_axis is required")
    x = convert_to_tensor(input, name="input")
    lengths = convert_to_tensor(seq_lengths, name="seq_lengths")
    if lengths.dtype not in (dtypes.int32, dtypes.int64):
        raise TypeError(f"Value passed to parameter 'seq_lengths' has DataType {lengths.dtype.name} not in list of "
                        "allowed values: int32, int64")
    rank = x.shape.ndims
    if rank is None:
        raise errors.unimplemented("reverse_sequence of an input of unknown rank is not supported by xlite")
    seq_axis, batch_axis = seq_axis % rank, batch_axis % rank
    if seq_axis == batch_axis:
        raise ValueError(f"seq_dim must not equal batch_dim: {seq_axis}")
    if lengths.shape.ndims not in (None, 1):
        raise ValueError(f"Shape must be rank 1 but is rank {lengths.shape.ndims} for seq_lengths of ReverseSequence")
    with x.graph.name_scope(name or "ReverseSequence"):
        rest = [d for d in range(rank) if d not in (batch_axis, seq_axis)]
        perm = [batch_axis, seq_axis] + rest
        moved = array_ops.transpose(x, perm)
        steps = moved.shape.dims[1] if moved.shape.dims[1] is not None else shape(moved)[1]
        batch = moved.shape.dims[0] if moved.shape.dims[0] is not None else shape(moved)[0]
        t = array_ops.expand_dims(tf_range(steps), 0)                              # [1, T]
        n = array_ops.expand_dims(math_ops.cast(lengths, dtypes.int32), 1)         # [B, 1]
        source = math_ops.where(t < n, n - 1 - t, t + 0 * n)                       # [B, T]
        rows = array_ops.expand_dims(tf_range(batch), 1) + 0 * t                   # [B, T]
        picked = gather_nd(moved, stack([rows, source], axis=-1))
        inverse = [perm.index(d) for d in range(rank)]
        out = array_ops.transpose(picked, inverse)
        out.set_shape(x.shape)
        return out
