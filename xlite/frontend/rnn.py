"""tf.nn.dynamic_rnn, bidirectional_dynamic_rnn, static_rnn and static_bidirectional_rnn, as TF1 builds them.

dynamic_rnn is TF's loop: a tf.while_loop over time whose state is (time, outputs so far, cell state),
with the number of steps as maximum_iterations (a constant when the input's time dim is static, else read
at run time) and stopping after the longest sequence_length. Each step reads inputs[time], calls the cell
once (so its Variables are made once, in `rnn/<cell name>/`) and writes its output into row `time` of a
loop-carried [time, batch, size] buffer (what xlite's TensorArray is), zeros where nothing was written, as
TF's TensorArray stacks. Past a row's sequence_length the output is zeros and the state is carried through
unchanged (TF's _rnn_step). static_rnn calls the cell once per step on a Python list.
"""
from __future__ import annotations

from xlite.frontend import array_ops, math_ops, nest
from xlite.frontend.control_flow_ops import while_loop
from xlite.frontend.convert import constant, convert_to_tensor
from xlite.frontend.fill_ops import zeros
from xlite.frontend.gather_ops import gather
from xlite.frontend.graph import Tensor
from xlite.frontend.join_ops import concat, stack, unstack
from xlite.frontend.reduction_ops import reduce_max
from xlite.frontend.rnn_cell_impl import flat_sizes, state_shape
from xlite.frontend.sequence_ops import reverse_sequence
from xlite.frontend.shape_ops import shape
from xlite.frontend.slicing_ops import dynamic_update_slice
from xlite.frontend.variable_scope import variable_scope
from xlite.ir import dtypes

__all__ = ["dynamic_rnn", "bidirectional_dynamic_rnn", "static_rnn", "static_bidirectional_rnn"]


def _transpose_batch_time(x) -> Tensor:
    """[batch, time, ...] <-> [time, batch, ...]."""
    x = convert_to_tensor(x)
    rank = x.shape.ndims
    if rank is not None and rank < 2:
        raise ValueError(f"Expected input tensor {x} to have rank at least 2, but saw shape: {x.shape}")
    perm = [1, 0] + list(range(2, rank if rank is not None else 3))
    out = array_ops.transpose(x, perm)
    if rank is not None:
        dims = x.shape.dims
        out.set_shape([dims[1], dims[0], *dims[2:]])
    return out


def _best_effort_batch_size(flat_input: list, axis: int):
    """The batch size: a static dim of some input if one has it, else the run-time dim of the first."""
    for x in flat_input:
        if x.shape.ndims is None:
            continue
        if x.shape.ndims < 2:
            raise ValueError(f"Expected input tensor {x} to have rank at least 2")
        if x.shape.dims[axis] is not None:
            return x.shape.dims[axis]
    return shape(flat_input[0])[axis]


def _state_dtype(explicit_dtype, state):
    if explicit_dtype is not None:
        return dtypes.as_dtype(explicit_dtype)
    flat = nest.flatten(state)
    if not flat:
        raise ValueError("Unable to infer dtype from empty state.")
    inferred = {convert_to_tensor(s).dtype for s in flat}
    if len(inferred) != 1:
        raise ValueError(f"State has tensors of different inferred_dtypes. Unable to infer a single "
                         f"representative dtype. Dtypes received: {sorted(d.name for d in inferred)}")
    return inferred.pop()


def _zeros(prefix: list, size, dtype) -> Tensor:
    """Zeros of shape prefix + size, with the static dims known set."""
    dims, static = state_shape(prefix[-1], size)
    dims = prefix[:-1] + dims
    static = [p if isinstance(p, int) else None for p in prefix[:-1]] + static
    out = zeros(dims, dtype=dtype)
    out.set_shape(static)
    return out


def _initial_state(cell, initial_state, dtype, batch_size):
    if initial_state is not None:
        return initial_state
    if not dtype:
        raise ValueError("If there is no initial_state, you must give a dtype.")
    if getattr(cell, "get_initial_state", None) is not None:
        return cell.get_initial_state(inputs=None, batch_size=batch_size, dtype=dtype)
    return cell.zero_state(batch_size, dtype)


def _sequence_length(sequence_length) -> Tensor | None:
    if sequence_length is None:
        return None
    sequence_length = math_ops.cast(sequence_length, dtypes.int32)
    if sequence_length.shape.ndims not in (None, 1):
        raise ValueError(f"sequence_length must be a vector of length batch_size, but saw shape: "
                         f"{sequence_length.shape}")
    return math_ops.identity(sequence_length, name="sequence_length")


def _rnn_step(time, sequence_length, zero_output, state, call_cell):
    """The cell's output and state for one step; rows whose sequence has ended (time >= length) get a zero
    output and keep their state, as TF's _rnn_step (with skip_conditionals) does."""
    new_output, new_state = call_cell()
    if not nest.same_structure(state, new_state, check_types=False):
        raise ValueError(f"The cell returned a state {new_state} that is not nested like its input state {state}")
    copy_cond = math_ops.greater_equal(time, sequence_length)

    def copy_one_through(old, new):
        old, new = convert_to_tensor(old), convert_to_tensor(new)
        if new.shape.ndims == 0:
            return new
        rank = new.shape.ndims if new.shape.ndims is not None else old.shape.ndims
        cond = array_ops.reshape(copy_cond, [-1] + [1] * (rank - 1))
        out = math_ops.where(cond, old, new)
        out.set_shape(old.shape)
        return out

    flat_output = [copy_one_through(z, o) for z, o in zip(nest.flatten(zero_output), nest.flatten(new_output))]
    flat_state = [copy_one_through(s, n) for s, n in zip(nest.flatten(state), nest.flatten(new_state))]
    return nest.pack_sequence_as(new_output, flat_output), nest.pack_sequence_as(new_state, flat_state)


def _check_inputs(flat_input: list) -> tuple:
    """(time steps, batch size) of time-major inputs, as static ints or None; TF's shape errors."""
    shapes = [x.shape for x in flat_input]
    for s in shapes:
        if s.ndims is None or s.ndims < 3:
            raise ValueError(f"Shape {s} must have rank at least 3")
    const_time, const_batch = shapes[0].dims[:2]
    for s in shapes:
        if None in s.dims[2:]:
            raise ValueError("Input size (depth of inputs) must be accessible via shape inference, but saw "
                             "value None.")
        if s.dims[0] != const_time:
            raise ValueError("Time steps is not the same for all the elements in the input in a batch.")
        if s.dims[1] != const_batch:
            raise ValueError("Batch_size is not the same for all the elements in the input.")
    return const_time, const_batch


def _dynamic_rnn_loop(cell, inputs, initial_state, sequence_length, dtype):
    """The while loop over the time-major `inputs`; returns (time-major outputs, final state)."""
    flat_input = nest.flatten(inputs)
    flat_output_size = flat_sizes(cell.output_size)
    const_time, const_batch = _check_inputs(flat_input)
    time_steps = const_time if const_time is not None else shape(flat_input[0])[0]
    batch_size = _best_effort_batch_size(flat_input, 1)
    state_dtype = _state_dtype(dtype, initial_state)
    flat_zero_output = [_zeros([batch_size], size, state_dtype) for size in flat_output_size]
    zero_output = nest.pack_sequence_as(cell.output_size, flat_zero_output) \
        if nest.is_sequence(cell.output_size) else flat_zero_output[0]
    if sequence_length is not None:
        loop_bound = math_ops.minimum(time_steps, math_ops.maximum(1, reduce_max(sequence_length)))
    else:
        loop_bound = time_steps
    time = constant(0, dtype=dtypes.int32, name="time")
    # one row at least, so the body (compiled even when it never runs) can write row 0; cut back after
    rows = max(const_time, 1) if const_time is not None else math_ops.maximum(time_steps, 1)
    buffers = tuple(_zeros([rows, batch_size], size, state_dtype) for size in flat_output_size)

    def time_step(time, buffers, state):
        input_t = []
        for x in flat_input:
            x_t = gather(x, time)
            x_t.set_shape(x.shape.dims[1:])
            input_t.append(x_t)
        input_t = nest.pack_sequence_as(inputs, input_t) if nest.is_sequence(inputs) else input_t[0]

        def call_cell():
            return cell(input_t, state)

        if sequence_length is not None:
            output, new_state = _rnn_step(time, sequence_length, zero_output, state, call_cell)
        else:
            output, new_state = call_cell()
        flat_output = nest.flatten(output)
        if len(flat_output) != len(buffers):
            raise ValueError(f"The cell returned {len(flat_output)} outputs, but its output_size "
                             f"{cell.output_size} has {len(buffers)}")
        written = []
        for buf, out in zip(buffers, flat_output):
            index = stack([time] + [0] * (buf.shape.ndims - 1))
            written.append(dynamic_update_slice(buf, array_ops.expand_dims(out, 0), index))
        return time + 1, tuple(written), new_state

    _, final_buffers, final_state = while_loop(lambda time, *_: time < loop_bound, time_step,
                                               (time, buffers, initial_state), maximum_iterations=time_steps)
    if const_time != rows:
        final_buffers = [array_ops.slice(out, [0] * out.shape.ndims,
                                         stack([time_steps] + [-1] * (out.shape.ndims - 1)))
                         for out in final_buffers]
    for out, size in zip(final_buffers, flat_output_size):
        out.set_shape([const_time, const_batch] + state_shape(1, size)[1][1:])
    outputs = nest.pack_sequence_as(cell.output_size, list(final_buffers)) \
        if nest.is_sequence(cell.output_size) else final_buffers[0]
    return outputs, final_state


def dynamic_rnn(cell, inputs, sequence_length=None, initial_state=None, dtype=None, parallel_iterations=None,
                swap_memory=False, time_major=False, scope=None) -> tuple:
    """Runs `cell` over the time dimension of `inputs`: (outputs [batch, time, output_size], final state).

    parallel_iterations and swap_memory are accepted and ignored (one compiled loop runs in order)."""
    with variable_scope(scope or "rnn"):
        flat_input = [convert_to_tensor(x) for x in nest.flatten(inputs)]
        if not time_major:
            flat_input = [_transpose_batch_time(x) for x in flat_input]
        sequence_length = _sequence_length(sequence_length)
        batch_size = _best_effort_batch_size(flat_input, 1)
        state = _initial_state(cell, initial_state, dtype, batch_size)
        if sequence_length is not None and sequence_length.shape.ndims == 1 and isinstance(batch_size, int):
            if sequence_length.shape.dims[0] not in (None, batch_size):
                raise ValueError(f"Expected shape for Tensor sequence_length:0 is [{batch_size}] but saw shape: "
                                 f"{sequence_length.shape.as_list()}")
        inputs = nest.pack_sequence_as(inputs, flat_input) if nest.is_sequence(inputs) else flat_input[0]
        outputs, final_state = _dynamic_rnn_loop(cell, inputs, state, sequence_length, dtype)
        if not time_major:
            outputs = nest.pack_sequence_as(outputs, [_transpose_batch_time(o) for o in nest.flatten(outputs)]) \
                if nest.is_sequence(outputs) else _transpose_batch_time(outputs)
        return outputs, final_state


def _reverse(x, seq_lengths, seq_axis: int, batch_axis: int):
    if seq_lengths is not None:
        return reverse_sequence(x, seq_lengths, seq_axis=seq_axis, batch_axis=batch_axis)
    return array_ops.reverse(x, axis=[seq_axis])


def _map(fn, structure):
    flat = [fn(x) for x in nest.flatten(structure)]
    return nest.pack_sequence_as(structure, flat) if nest.is_sequence(structure) else flat[0]


def bidirectional_dynamic_rnn(cell_fw, cell_bw, inputs, sequence_length=None, initial_state_fw=None,
                              initial_state_bw=None, dtype=None, parallel_iterations=None, swap_memory=False,
                              time_major=False, scope=None) -> tuple:
    """dynamic_rnn forwards (scope fw/) and over the reversed sequences (bw/, each row reversed within its
    sequence_length): ((output_fw, output_bw), (state_fw, state_bw)), output_bw back in time order."""
    time_axis, batch_axis = (0, 1) if time_major else (1, 0)
    with variable_scope(scope or "bidirectional_rnn"):
        with variable_scope("fw") as fw_scope:
            output_fw, state_fw = dynamic_rnn(cell_fw, inputs, sequence_length=sequence_length,
                                              initial_state=initial_state_fw, dtype=dtype,
                                              time_major=time_major, scope=fw_scope)
        with variable_scope("bw") as bw_scope:
            inputs_reverse = _map(lambda x: _reverse(x, sequence_length, time_axis, batch_axis), inputs)
            tmp, state_bw = dynamic_rnn(cell_bw, inputs_reverse, sequence_length=sequence_length,
                                        initial_state=initial_state_bw, dtype=dtype, time_major=time_major,
                                        scope=bw_scope)
    output_bw = _map(lambda x: _reverse(x, sequence_length, time_axis, batch_axis), tmp)
    return (output_fw, output_bw), (state_fw, state_bw)


def static_rnn(cell, inputs, initial_state=None, dtype=None, sequence_length=None, scope=None) -> tuple:
    """The cell applied to each tensor of the list `inputs` in turn: (list of outputs, final state)."""
    if not nest.is_sequence(inputs):
        raise TypeError("inputs must be a sequence")
    if not inputs:
        raise ValueError("inputs must not be empty")
    outputs = []
    with variable_scope(scope or "rnn") as varscope:
        first = inputs
        while nest.is_sequence(first):
            first = first[0]
        first = convert_to_tensor(first)
        for x in nest.flatten(inputs):
            x = convert_to_tensor(x)
            if x.shape.ndims is not None and x.shape.ndims >= 2 and None in x.shape.dims[1:]:
                k = x.shape.dims[1:].index(None)
                raise ValueError(f"Input size (dimension {k} of inputs) must be accessible via shape inference,"
                                 " but saw value None.")
        batch_size = first.shape.dims[0] if first.shape.ndims else None
        if batch_size is None:
            batch_size = shape(first)[0]
        state = _initial_state(cell, initial_state, dtype, batch_size)
        zero_output = None
        if sequence_length is not None:
            sequence_length = convert_to_tensor(sequence_length, name="sequence_length")
            if sequence_length.shape.ndims not in (None, 1):
                raise ValueError("sequence_length must be a vector of length batch_size")
            sizes = flat_sizes(cell.output_size)
            flat_zero = [_zeros([batch_size], s, _state_dtype(dtype, state)) for s in sizes]
            zero_output = nest.pack_sequence_as(cell.output_size, flat_zero) \
                if nest.is_sequence(cell.output_size) else flat_zero[0]
            sequence_length = math_ops.cast(sequence_length, dtypes.int32)
        for time, input_ in enumerate(inputs):
            if time > 0:
                varscope.reuse_variables()

            def call_cell(input_=input_, state=state):
                return cell(input_, state)

            if sequence_length is not None:
                output, state = _rnn_step(constant(time, dtype=dtypes.int32), sequence_length, zero_output,
                                          state, call_cell)
            else:
                output, state = call_cell()
            outputs.append(output)
        return outputs, state


def _reverse_seq(input_seq: list, lengths) -> list:
    """A list of per-step tensors reversed in time (within each row's length, when lengths are given)."""
    if lengths is None:
        return list(reversed(input_seq))
    flat_steps = [nest.flatten(x) for x in input_seq]
    columns = []
    for column in zip(*flat_steps):
        stacked = stack(list(column))
        reversed_ = reverse_sequence(stacked, math_ops.cast(lengths, dtypes.int64), seq_axis=0, batch_axis=1)
        steps = unstack(reversed_)
        for s, orig in zip(steps, column):
            s.set_shape(convert_to_tensor(orig).shape)
        columns.append(steps)
    return [nest.pack_sequence_as(x, [col[t] for col in columns]) if nest.is_sequence(x) else columns[0][t]
            for t, x in enumerate(input_seq)]


def static_bidirectional_rnn(cell_fw, cell_bw, inputs, initial_state_fw=None, initial_state_bw=None, dtype=None,
                             sequence_length=None, scope=None) -> tuple:
    """static_rnn forwards (fw/) and over the reversed list (bw/): (outputs with fw and bw concatenated
    on the last axis, state_fw, state_bw)."""
    if not inputs:
        raise ValueError("inputs must not be empty")
    with variable_scope(scope or "bidirectional_rnn"):
        with variable_scope("fw") as fw_scope:
            output_fw, state_fw = static_rnn(cell_fw, inputs, initial_state_fw, dtype, sequence_length,
                                             scope=fw_scope)
        with variable_scope("bw") as bw_scope:
            reversed_inputs = _reverse_seq(inputs, sequence_length)
            tmp, state_bw = static_rnn(cell_bw, reversed_inputs, initial_state_bw, dtype, sequence_length,
                                       scope=bw_scope)
    output_bw = _reverse_seq(tmp, sequence_length)
    outputs = []
    for fw, bw in zip(output_fw, output_bw):
        flat = [concat([f, b], 1) for f, b in zip(nest.flatten(fw), nest.flatten(bw))]
        outputs.append(nest.pack_sequence_as(fw, flat) if nest.is_sequence(fw) else flat[0])
    return outputs, state_fw, state_bw
