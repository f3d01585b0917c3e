"""tf.TensorArray as a buffer tensor: the array's value is one [size, *element_shape] tensor.

TF threads a TensorArray through a graph as a "flow" value; xlite's flow is the
buffer itself, which suits a compiler of static shapes: `write` is a
dynamic-update-slice of one row, `read` a dynamic slice of one row, `stack` the
buffer, `unstack` a buffer that is the value, so every method is a composition
of existing differentiable ops and needs no gradient rule of its own. A
TensorArray is immutable, as in TF: each method returns a new one.

The buffer appears at the first write (or unstack, scatter, or a read of an
array whose element shape is fully known). In a tf.while_loop the array is a
loop variable whose value is its buffer (tensor_array_loops.py); an array that
enters a loop without an element shape gets one from a trial trace of the body,
as TF-XLA compiles a loop body twice for the same reason. `dynamic_size=True`
grows the buffer at writes with static indices; in a loop it is sized from a
compile-time `maximum_iterations`; in a loop without one its buffer is a loop variable that grows by
a row at each write, so the Session runs that loop on the host (tensor_array_loops.py).

`clear_after_read=True` (TF1's default) is enforced as TF1's kernels do: reading an element twice (read,
gather, stack and concat read) raises InvalidArgumentError eagerly at once, and in a graph from a run that
makes both reads (a run-time check, run_checks.py; reads fetched by separate runs are fine, as in TF; a stack
or concat of an array whose size is unknown at graph construction is not checked). Reads made inside a
tf.cond branch or loop body other than the array's own are not tracked. Deviation: a write at a fed index
beyond the size is clamped into range (as a dynamic-update-slice is) where TF raises.
"""
from __future__ import annotations

import numpy as np

from xlite import errors
from xlite.frontend import (array_ops, fill_ops, gather_ops, join_ops, math_ops, segment_ops, shape_ops,
                            slicing_ops)
from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.gradients import no_gradient
from xlite.frontend.graph import Tensor, executing_eagerly, get_default_graph
from xlite.frontend.op_registry import lowering, make_op
from xlite.frontend.run_checks import RunCheck, add_check, equal_grid, first_of, flat_int64, repeated, site
from xlite.frontend.subgraph import current_frame
from xlite.frontend.slicing_ops import dynamic_update_slice
from xlite.frontend.tensor_shape import TensorShape
from xlite.frontend.variables import no_op
from xlite.ir import dtypes

__all__ = ["TensorArray"]


def _static_int(t) -> int | None:
    """A scalar's value where known at graph construction (or eagerly), else None."""
    if isinstance(t, int):
        return t
    value = getattr(convert_to_tensor(t), "_static_value", None)
    return None if value is None else int(value)


def row(x: Tensor, index) -> Tensor:
    """x[index] along dim 0 as a dynamic slice, whose gradient is dense (as TF's TensorArray gradients are)."""
    rank = x.shape.ndims
    if rank is None:
        raise errors.unimplemented(f"TensorArray: reading a row of {x.name}, whose rank is unknown")
    index = convert_to_tensor(index, dtype=dtypes.int32)
    rest = x.shape[1:]
    if x.shape[0] == 0:   # no row to read: only a loop that never runs reads one (its body is still traced)
        return fill_ops.zeros(rest.as_list() if rest.is_fully_defined() else shape_ops.shape(x)[1:], x.dtype)
    size = [1] + (rest.as_list() if rest.is_fully_defined() else [])
    if not rest.is_fully_defined():
        size = join_ops.concat([[1], shape_ops.shape(x)[1:]], 0)
    piece = slicing_ops.slice(x, join_ops.stack([index] + [0] * (rank - 1)), size)
    return array_ops.squeeze(piece, [0])


class TensorArray:
    """TF's TensorArray: `write`/`read`/`stack`/`unstack`/`gather`/`scatter`/`concat`/`split`/`size`."""

    def __init__(self, dtype, size=None, dynamic_size=None, clear_after_read=None, tensor_array_name=None,
                 handle=None, flow=None, infer_shape=True, element_shape=None,
                 colocate_with_first_write_call=True, name=None):
        self._dtype = dtypes.as_dtype(dtype)
        self._dynamic_size = bool(dynamic_size)
        self._clear_after_read = True if clear_after_read is None else bool(clear_after_read)
        self._infer_shape = bool(infer_shape)
        self._name = name or tensor_array_name or "TensorArray"
        self._element_shape = TensorShape(element_shape)
        self._buffer: Tensor | None = None
        self._reads = _Reads(self._name) if self._clear_after_read else None
        self._loop_size: Tensor | None = None   # inside a loop that grows the array: its size (a loop variable)
        if flow is not None:   # an array rebuilt from its flow (a loop variable, a map_fn result)
            self._set_buffer(convert_to_tensor(flow))
            self._size = None
            return
        if size is None:
            if not self._dynamic_size:
                raise ValueError("Size must be provided if handle is not provided")
            size = 0
        self._size = convert_to_tensor(size, dtype=dtypes.int32, name="size")
        if self._size.shape.ndims not in (None, 0):
            raise ValueError(f"TensorArray size must be a scalar, got shape {self._size.shape}")

    # properties ---------------------------------------------------------------------------
    @property
    def dtype(self):
        return self._dtype

    @property
    def element_shape(self) -> TensorShape:
        return self._element_shape

    @property
    def dynamic_size(self) -> bool:
        return self._dynamic_size

    @property
    def flow(self) -> Tensor:
        """The value a loop threads: the buffer (zeros of the known shape before any write)."""
        return self._materialized(None).buffer

    @property
    def handle(self) -> Tensor:
        return self.flow

    @property
    def buffer(self) -> Tensor | None:
        return self._buffer

    @property
    def capacity(self) -> int | None:
        """The buffer's static number of rows (the static size before any write), else None."""
        if self._buffer is not None:
            return self._buffer.shape[0] if self._buffer.shape.ndims else None
        return _static_int(self._size)

    # construction of new arrays -----------------------------------------------------------
    def _set_buffer(self, buffer: Tensor) -> None:
        self._buffer = buffer
        if buffer.shape.ndims is not None:
            self._element_shape = self._element_shape.merge_with(buffer.shape[1:])

    def _with(self, buffer: Tensor, element_shape=None) -> "TensorArray":
        ta = object.__new__(TensorArray)
        ta.__dict__.update(self.__dict__)
        if element_shape is not None:
            ta._element_shape = element_shape
        ta._set_buffer(buffer)
        return ta

    def _merged_shape(self, shape: TensorShape, what: str) -> TensorShape:
        if not self._element_shape.is_compatible_with(shape):
            raise ValueError(f"Inconsistent shapes: saw {shape} but expected {self._element_shape} in {what} of "
                             f"TensorArray '{self._name}'")
        return self._element_shape.merge_with(shape) if self._infer_shape else self._element_shape

    def _check_dtype(self, value: Tensor, what: str) -> None:
        if value.dtype != self._dtype:
            raise errors.InvalidArgumentError(
                None, None, f"TensorArray dtype is {self._dtype.name} but Op is trying to {what} dtype "
                            f"{value.dtype.name}")

    def _zeros(self, rows, element_dims) -> Tensor:
        """A [rows, *element] buffer of zeros; `element_dims` a list of ints or a shape tensor."""
        if isinstance(element_dims, (list, tuple)) and isinstance(rows, int):
            return fill_ops.zeros([rows] + list(element_dims), self._dtype)
        rows_t = array_ops.reshape(convert_to_tensor(rows, dtype=dtypes.int32), [1])
        return fill_ops.zeros(join_ops.concat([rows_t, convert_to_tensor(element_dims, dtype=dtypes.int32)], 0),
                              self._dtype)

    def _materialized(self, like: Tensor | None, rows: int | None = None) -> "TensorArray":
        """This array with a buffer: zeros shaped like `like`'s rows (or the known element shape)."""
        if self._buffer is not None:
            return self
        size = self._size if rows is None else rows
        if like is not None:
            dims = like.shape.as_list() if like.shape.is_fully_defined() else shape_ops.shape(like)
        elif self._element_shape.is_fully_defined():
            dims = self._element_shape.as_list()
        else:
            raise errors.unimplemented(
                f"TensorArray '{self._name}': its element shape ({self._element_shape}) is not known yet; "
                "xlite's TensorArray is a buffer of static shape, so write to it first or pass element_shape=")
        static = _static_int(size)
        return self._with(self._zeros(static if static is not None else size, dims))

    def _grown(self, index: int | None) -> "TensorArray":
        """A dynamic-size array with room for row `index` (known statically, as eagerly)."""
        if not self._dynamic_size or index is None:
            return self
        rows = self.capacity
        if rows is None or index < rows:
            return self
        extra = self._zeros(index + 1 - rows, self._element_shape.as_list() if self._element_shape.is_fully_defined()
                            else shape_ops.shape(self._buffer)[1:])
        return self._with(join_ops.concat([self._buffer, extra], 0))

    def _check_index(self, index: int | None, what: str) -> None:
        rows = self.capacity
        if index is None:
            return
        if index < 0:
            raise errors.InvalidArgumentError(None, None, f"Tried to {what} index {index} of TensorArray "
                                                          f"'{self._name}': index must be non-negative")
        if rows is not None and index >= rows and not self._dynamic_size and not getattr(self, "_shapes_only", False):
            raise errors.InvalidArgumentError(
                None, None, f"Tried to {what} index {index} but array is not resizeable and size is: {rows}")

    # TF's methods -----------------------------------------------------------------------
    def write(self, index, value, name=None) -> "TensorArray":
        value = convert_to_tensor(value, preferred_dtype=self._dtype)
        self._check_dtype(value, "write")
        shape = self._merged_shape(value.shape, "write")
        index = convert_to_tensor(index, dtype=dtypes.int32, name="index")
        static = _static_int(index)
        self._check_index(static, "write to")
        if self._loop_size is not None:
            return self._appended(index, value, shape, name)
        if self._dynamic_size and static is None:
            raise errors.unimplemented(
                f"TensorArray '{self._name}' (dynamic_size=True) written at an index known only at run time: xlite "
                "sizes such an array at compile time, from a static index or a tf.while_loop's compile-time "
                "maximum_iterations; give the loop maximum_iterations or the array a fixed size")
        ta = self._materialized(value, None if static is None or not self._dynamic_size
                                else max(static + 1, _static_int(self._size) or 0))._grown(static)
        buf = ta._buffer
        if value.shape.ndims is None:
            raise errors.unimplemented(f"TensorArray '{self._name}': a write of a value of unknown rank")
        if ta.capacity == 0:   # only a loop that never runs writes here (its body is still traced)
            return ta._with(buf, shape)
        starts = join_ops.stack([index] + [0] * value.shape.ndims)
        new = dynamic_update_slice(buf, array_ops.expand_dims(value, 0), starts, name=name or "TensorArrayWrite")
        return ta._with(new, shape)

    def _appended(self, index: Tensor, value: Tensor, shape: TensorShape, name) -> "TensorArray":
        """A write inside a loop that grows the array: the buffer gains a row (the host loop trims rows past
        the size after each iteration), so an index up to the rows it had fits; one past them raises."""
        from xlite.frontend.assert_ops import assert_less_equal
        buf = self._buffer
        rows = shape_ops.shape(buf)[0]
        dims = value.shape.as_list() if value.shape.is_fully_defined() else shape_ops.shape(value)
        check = assert_less_equal(index, rows, message=(
            f"TensorArray '{self._name}' (dynamic_size=True) in a tf.while_loop without maximum_iterations: xlite "
            "grows it by one element a write, so a write may skip no index past its size"))
        with buf.graph.control_dependencies([check]):
            grown = join_ops.concat([buf, self._zeros(1, dims)], 0)
        starts = join_ops.stack([index] + [0] * value.shape.ndims)
        new = dynamic_update_slice(grown, array_ops.expand_dims(value, 0), starts, name=name or "TensorArrayWrite")
        ta = self._with(new, shape)
        ta._loop_size = math_ops.maximum(self._loop_size, index + 1)
        return ta

    def _whole_in_loop(self, what: str) -> None:
        if self._loop_size is not None:
            raise errors.unimplemented(
                f"TensorArray.{what} of '{self._name}' (dynamic_size=True) inside a tf.while_loop without "
                "maximum_iterations: xlite grows it one write at a time there; write, read, gather or size it in "
                "the loop, and stack, concat, unstack or scatter it outside")

    def read(self, index, name=None) -> Tensor:
        index = convert_to_tensor(index, dtype=dtypes.int32, name="index")
        static = _static_int(index)
        self._check_index(static, "read from")
        ta = self._materialized(None)
        index = self._cleared_after(index)
        with ta._buffer.graph.name_scope(name or "TensorArrayRead"):
            out = row(ta._buffer, index)
        out.set_shape(self._element_shape)
        return self._read_by(out)

    def stack(self, name=None) -> Tensor:
        self._whole_in_loop("stack")
        ta = self._materialized(None)
        out = math_ops.identity(ta._every_row_read(), name=name or "TensorArrayStack")
        return self._read_by(out)

    def gather(self, indices, element_shape=None, name=None) -> Tensor:
        ta = self._materialized(None)
        indices = self._cleared_after(convert_to_tensor(indices, dtype=dtypes.int32))
        return self._read_by(gather_ops.gather(ta._buffer, indices, name=name or "TensorArrayGather"))

    def _cleared_after(self, indices: Tensor | None) -> Tensor | None:
        """`indices` (None: every element) after TF1's clear_after_read check against this array's earlier
        reads (_Reads.reading)."""
        reads = self._reads
        if reads is None or not reads.tracks(get_default_graph()):
            return indices
        return reads.reading(indices, self.capacity)

    def _every_row_read(self) -> Tensor:
        """The buffer, read whole (a stack or concat): through the clear_after_read check where it applies."""
        checked = self._cleared_after(None)
        return self._buffer if checked is None else gather_ops.gather(self._buffer, checked)

    def _read_by(self, out: Tensor) -> Tensor:
        if self._reads is not None and self._reads.tracks(get_default_graph()):
            self._reads.done(out)
        return out

    def concat(self, name=None) -> Tensor:
        self._whole_in_loop("concat")
        ta = self._materialized(None)
        rows = ta._every_row_read()
        if ta._element_shape.ndims == 0:
            raise ValueError(f"Concat saw a scalar shape at index 0 of TensorArray '{self._name}'; concat needs "
                             "elements of rank >= 1")
        rest = ta._element_shape[1:]
        dims = [-1] + (rest.as_list() if rest.is_fully_defined() else [])
        if not rest.is_fully_defined():
            dims = join_ops.concat([[-1], shape_ops.shape(ta._buffer)[2:]], 0)
        return self._read_by(array_ops.reshape(rows, dims, name=name or "TensorArrayConcat"))

    def unstack(self, value, name=None) -> "TensorArray":
        self._whole_in_loop("unstack")
        value = convert_to_tensor(value, preferred_dtype=self._dtype, name="value")
        self._check_dtype(value, "unstack")
        if value.shape.ndims == 0:
            raise ValueError("Shape must be at least rank 1 but is rank 0 for the value of TensorArray.unstack")
        shape = self._merged_shape(value.shape[1:], "unstack")
        rows, size = value.shape[0] if value.shape.ndims else None, self.capacity
        if not self._dynamic_size and rows is not None and size is not None and rows != size:
            raise errors.InvalidArgumentError(None, None, f"TensorArray '{self._name}' has size {size} but unstack "
                                                          f"got a value of {rows} rows")
        return self._with(math_ops.identity(value, name=name or "TensorArrayUnstack"), shape)

    def scatter(self, indices, value, name=None) -> "TensorArray":
        """Rows value[k] written at indices[k] (TF refuses repeated indices; here they add up)."""
        self._whole_in_loop("scatter")
        value = convert_to_tensor(value, preferred_dtype=self._dtype, name="value")
        self._check_dtype(value, "scatter")
        indices = convert_to_tensor(indices, dtype=dtypes.int32, name="indices")
        shape = self._merged_shape(value.shape[1:], "scatter")
        static = getattr(indices, "_static_value", None)
        top = None if static is None or static.size == 0 else int(static.max())
        self._check_index(top, "write to")
        ta = self._with_element(value.shape[1:])
        if ta._buffer is None:
            rows = None if top is None or not self._dynamic_size else max(top + 1, _static_int(self._size) or 0)
            like = None if ta._element_shape.is_fully_defined() else gather_ops.gather(value, 0)
            ta = ta._materialized(like, rows)
        ta = ta._grown(top)
        buf = ta._buffer
        rows = shape_ops.shape(buf)[0] if ta.capacity is None else ta.capacity
        written = segment_ops.unsorted_segment_sum(value, indices, rows)
        hits = segment_ops.unsorted_segment_sum(fill_ops.ones_like(indices, dtype=self._dtype), indices, rows)
        keep = math_ops.cast(math_ops.equal(hits, 0), self._dtype)
        keep = array_ops.reshape(keep, [-1] + [1] * (buf.shape.ndims - 1))
        return ta._with(math_ops.add(buf * keep, written, name=name or "TensorArrayScatter"), shape)

    def _with_element(self, shape: TensorShape) -> "TensorArray":
        ta = object.__new__(TensorArray)
        ta.__dict__.update(self.__dict__)
        ta._element_shape = self._element_shape.merge_with(shape)
        return ta

    def split(self, value, lengths, name=None) -> "TensorArray":
        """Pieces of `value` along dim 0; xlite's buffer holds equal pieces, so the lengths must be equal."""
        value = convert_to_tensor(value, preferred_dtype=self._dtype, name="value")
        known = getattr(convert_to_tensor(lengths, dtype=dtypes.int32), "_static_value", None)
        if known is None or len(set(int(v) for v in known.reshape(-1))) > 1 or value.shape.ndims in (None, 0):
            raise errors.unimplemented(
                f"TensorArray.split of '{self._name}' with lengths {lengths!r}: xlite's TensorArray is one buffer of "
                "equal rows, so the lengths must be compile-time constants and all equal")
        n = known.size
        rest = value.shape[1:].as_list() if value.shape[1:].is_fully_defined() else None
        if rest is None:
            raise errors.unimplemented(f"TensorArray.split of '{self._name}': the value's shape must be known")
        pieces = array_ops.reshape(value, [n, int(known.reshape(-1)[0]) if n else 0] + rest)
        return self.unstack(pieces, name=name or "TensorArraySplit")

    def size(self, name=None) -> Tensor:
        if self._loop_size is not None:
            return math_ops.identity(self._loop_size, name=name or "TensorArraySize")
        rows = self.capacity
        if rows is not None:
            return convert_to_tensor(rows, dtype=dtypes.int32, name=name or "TensorArraySize")
        if self._buffer is not None:
            return shape_ops.shape(self._buffer, name=name or "TensorArraySize")[0]
        return math_ops.identity(self._size, name=name or "TensorArraySize")

    def close(self, name=None):
        return no_op(name=name or "TensorArrayClose")

    def identity(self) -> "TensorArray":
        if self._buffer is None:
            return self
        return self._with(math_ops.identity(self._buffer))

    def grad(self, source, flow=None, name=None):
        raise errors.unimplemented("TensorArray.grad: xlite differentiates TensorArray methods through the ops "
                                   "they are made of; use tf.gradients of the stacked values")

    def __repr__(self) -> str:
        return f"<tf.TensorArray '{self._name}' dtype={self._dtype.name} element_shape={self._element_shape}>"


# clear_after_read -----------------------------------------------------------------------------------------
_CLEARED = ("Could not read index {value} twice because it was cleared after a previous read (perhaps try setting "
            "clear_after_read = false?)")
_UNREAD = "TensorArrayUnreadIndex"


class _Reads:
    """The reads of one TensorArray (shared by the arrays its methods return) in the graph and branch or loop
    body it was made in: the indices known when read, and (index tensor or None for every element, the value
    read) of each read, for the run-time checks of later reads."""

    def __init__(self, name: str):
        self.name = name
        self.graph = get_default_graph()
        self.frame = current_frame(self.graph)
        self.known: set = set()         # eagerly: the elements read so far
        self.everything = False         # eagerly: a stack or concat read every element
        self.reads: list = []
        self.pending = None

    def tracks(self, graph) -> bool:
        return graph is self.graph and current_frame(graph) is self.frame

    def message(self) -> str:
        return f"TensorArray {self.name}: " + _CLEARED

    def reading(self, indices: Tensor | None, capacity: int | None) -> Tensor | None:
        """`indices` (None: every element) through a run-time check against the earlier reads the run makes: TF
        raises only when both reads run in one Session.run. A stack or concat after reads comes back as the
        indices of every element (None when nothing needs checking). Eagerly each read raises at once."""
        if executing_eagerly():
            return self._read_now(indices, capacity)
        if indices is None:
            if not self.reads or capacity is None:
                self.pending = None
                return None
            indices = convert_to_tensor(np.arange(capacity, dtype=np.int32))
        if self.reads or indices.shape.num_elements() != 1:
            indices = make_op(_UNREAD, [indices], {"_earlier": tuple(self.reads), "message": self.message()},
                              name="cleared_after_read").outputs[0]
        self.pending = indices
        return indices

    def _read_now(self, indices: Tensor | None, capacity: int | None) -> Tensor | None:
        """An eager read: raises for an element an earlier read of this array took."""
        if indices is None:
            static = list(range(capacity)) if capacity is not None else []
        else:
            static = [int(v) for v in np.asarray(indices._static_value).reshape(-1)]
        seen = set()
        for v in static:
            if v in self.known or v in seen or (self.everything and v >= 0):
                raise errors.InvalidArgumentError(None, None, self.message().format(value=v))
            seen.add(v)
        self.known |= seen
        self.everything = self.everything or indices is None
        return indices

    def done(self, out: Tensor) -> None:
        if not executing_eagerly():
            self.reads.append((self.pending, out))
        self.pending = None


@lowering(_UNREAD)
def _lower_unread(ctx, op, indices):
    """The indices as they are; the run checks that none repeats and none was read by an earlier read the run
    makes (lowered before this op, as ops are in creation order)."""
    if ctx.static or None in indices.shape.dims:
        return indices
    b = ctx.b
    flat = flat_int64(b, indices)
    count = flat.shape.dims[0]
    bad = repeated(b, flat, "LT")
    for read_indices, value in op.attrs["_earlier"]:
        if value not in ctx.values:
            continue
        if read_indices is None:        # a stack or concat: every element
            hit = b.compare(flat, b.broadcast_to(b.scalar(0, dtypes.int64), (count,)), "GE")
        else:
            hit = b.reduce(equal_grid(b, flat, flat_int64(b, ctx.values[read_indices])), "or", (1,))
        bad = b.emit("or", (bad, hit))
    add_check(ctx, first_of(b, bad, flat, 0), RunCheck(op.name, site(op), (count,), template=op.attrs["message"]))
    return indices


no_gradient(_UNREAD)
