"""What converted code calls at run time: each decides, on the value it gets, between TF and Python.

A converted `if` becomes `if_stmt(test, true_fn, false_fn, state, names, opts)`: the branch
functions take the statement's state (every name it may assign, in `names` order) and return
its new value. A graph tensor test builds a `tf.cond` over both branches; anything else (a
Python value, an eager tensor with a concrete value) runs the one branch Python would.
`while_stmt` and `for_stmt` do the same with `tf.while_loop`. Only state that has a value
before a tensor loop becomes a loop variable, as in TF.

Ops are built through the public frontend (tf.cond, tf.while_loop, tf.logical_*), never
computed here. `opts` carries the file and line of the user's statement for errors.
"""
from __future__ import annotations

import builtins

from xlite import errors
from xlite.frontend import fill_ops, math_ops, nest
from xlite.frontend.control_flow_ops import cond as tf_cond, while_loop as tf_while_loop
from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.gather_ops import gather
from xlite.frontend.graph import Tensor, executing_eagerly, get_default_graph
from xlite.frontend.shape_ops import shape as tf_shape
from xlite.frontend.subgraph import recording
from xlite.frontend.tensor_array_ops import TensorArray
from xlite.ir import dtypes
from xlite.function.autograph import lists
from xlite.function.autograph.composites import Composites
from xlite.function.autograph.undefined import Undefined, UndefinedReturnValue, is_undefined, ld  # noqa: F401

RETVAL_PREFIX = "ag__retval"   # the converted function's return value (see break_continue_return.py)

_tensor_loop_depth = [0]   # > 0 while a tf.while_loop body or condition is being traced
_traced_statements: list = []   # "loop" / "if" for each tensor loop and tensor `if` being traced, innermost last


def is_graph_tensor(value) -> bool:
    """A symbolic value (frontend Tensor or Variable). Eager tensors and Variables (classes of xlite/eager/)
    have concrete values, so they are not: a test on one is a Python bool, as in TF's eager mode."""
    if not (isinstance(value, Tensor) or hasattr(value, "_as_tensor")):
        return False
    return not type(value).__module__.startswith("xlite.eager")


def where(opts: dict) -> str:
    return f'File "{opts["file"]}", line {opts["line"]}'


def _refuse_unsupported(opts: dict, kind: str) -> None:
    """What a tensor-dependent statement cannot do: sit in a `try`, or assign attributes or items."""
    if opts.get("mutates"):
        raise errors.unimplemented(
            f"{where(opts)}: this tensor-dependent `{kind}` assigns {', '.join(opts['mutates'])}; AutoGraph in "
            "xlite carries variables and attributes of a fixed object through tf.cond / tf.while_loop, not "
            "items (a traced branch would set it whichever branch runs). Assign a local variable inside and "
            "set the item after.")
    if opts.get("try_line") is not None:
        raise errors.unimplemented(
            f"{where(opts)}: a tensor-dependent `{kind}` inside the `try` statement at line {opts['try_line']} "
            "cannot be converted: a tf.cond or tf.while_loop runs in the graph, where Python exceptions cannot "
            "be caught. Move the control flow out of the try statement.")


# logical operators ------------------------------------------------------------------------
def and_(a_fn, b_fn):
    """`a and b`: tf.logical_and on a graph tensor, else Python's (b evaluated only when needed)."""
    a = a_fn()
    if is_graph_tensor(a):
        return math_ops.logical_and(a, b_fn())
    return b_fn() if a else a


def or_(a_fn, b_fn):
    a = a_fn()
    if is_graph_tensor(a):
        return math_ops.logical_or(a, b_fn())
    return a if a else b_fn()


def not_(a):
    return math_ops.logical_not(a) if is_graph_tensor(a) else not a


def if_exp(test, true_fn, false_fn, opts: dict):
    """`a if test else b`."""
    if is_graph_tensor(test):
        _refuse_unsupported(opts, "if")
        return tf_cond(test, true_fn, false_fn)
    return true_fn() if test else false_fn()


# if ---------------------------------------------------------------------------------------
class _Retrace(Exception):
    """Raised out of a tf.cond whose branches left some state undefined, to trace it again knowing which."""


def if_stmt(test, true_fn, false_fn, state: tuple, names: tuple, opts: dict) -> tuple:
    if not is_graph_tensor(test):
        return true_fn(*state) if test else false_fn(*state)
    _refuse_unsupported(opts, "if")
    state, attrs = tuple(state), Composites(opts)
    if not attrs:
        return _tf_if(test, true_fn, false_fn, state, names, opts)
    n = len(state)
    out = _tf_if(test, attrs.wrap(true_fn, n), attrs.wrap(false_fn, n), state + attrs.read(), names + attrs.labels(),
                 opts)
    attrs.write(out[n:])
    return out[:n]


class _Spec:
    """dtype and static shape of one leaf of a return value."""

    def __init__(self, dtype, shape: list):
        self.dtype, self.shape = dtype, shape


def _zeros_like_spec(spec):
    return nest.pack_sequence_as(spec, [fill_ops.zeros(s.shape, s.dtype) for s in nest.flatten(spec)])


def _spec_of(value, name: str, opts: dict):
    """(dtype, shape) leaves of a return value, for the placeholder the other branch returns."""
    specs = []
    for leaf in nest.flatten(value):
        t = convert_to_tensor(leaf)
        if not t.shape.is_fully_defined():
            raise ValueError(f"{where(opts)}: the function returns a value of shape {t.shape} in one branch of "
                             "this tensor `if` only; return a value in both branches")
        specs.append(_Spec(t.dtype, t.shape.as_list()))
    return nest.pack_sequence_as(value, specs)


def _tf_if(test, true_fn, false_fn, state: tuple, names: tuple, opts: dict) -> tuple:
    plan: dict[int, tuple] = {}   # slot -> ("drop", Undefined) | ("zeros", spec)
    for _ in builtins.range(len(names) + 1):
        seen: list = [None, None]

        def branch(fn, which):
            def run():
                _traced_statements.append("if")
                try:
                    out = tuple(fn(*state))
                finally:
                    _traced_statements.pop()
                seen[which] = out
                kept = []
                for k, value in enumerate(out):
                    if k in plan:
                        kind, info = plan[k]
                        if kind == "drop":
                            continue
                        if is_undefined(value):
                            value = _zeros_like_spec(info)
                    elif is_undefined(value):
                        value = False   # a stand-in: the false branch, traced last, asks for a retrace
                    kept.append(value)
                if which == 1 and any(k not in plan and (is_undefined(a) or is_undefined(b))
                                      for k, (a, b) in enumerate(zip(*seen))):
                    raise _Retrace()
                return tuple(kept)
            return run

        try:
            kept = tf_cond(test, branch(true_fn, 0), branch(false_fn, 1), strict=True)
        except _Retrace:
            for k, (a, b) in enumerate(zip(*seen)):
                if k not in plan and (is_undefined(a) or is_undefined(b)):
                    plan[k] = _plan_slot(names[k], a, b, opts)
            continue
        kept = iter(kept)
        return tuple(plan[k][1] if k in plan and plan[k][0] == "drop" else next(kept)
                     for k in builtins.range(len(names)))
    raise AssertionError("tf.cond retraced more often than it has state")   # each retrace plans a new slot


def _plan_slot(name: str, a, b, opts: dict) -> tuple:
    if name.startswith(RETVAL_PREFIX) and isinstance(a, UndefinedReturnValue) != isinstance(b, UndefinedReturnValue):
        defined = b if isinstance(a, UndefinedReturnValue) else a
        if not is_undefined(defined):
            return ("zeros", _spec_of(defined, name, opts))
    if is_undefined(a) and is_undefined(b):
        return ("drop", a if isinstance(a, Undefined) else Undefined(name))
    branch = "else" if is_undefined(b) else "if"
    return ("drop", Undefined(name, f"'{name}' must also be initialized in the {branch} branch ({where(opts)}: "
                                    "a tensor `if` gives its variables a value from both branches)", ValueError))


# loops ------------------------------------------------------------------------------------
class _Discard(Exception):
    """Ends a trial iteration: its ops are left out of the graph's lowering."""


def _return_placeholders(state: tuple, names: tuple, opts: dict, trial) -> tuple:
    """`state` with a return value that has none yet set to zeros shaped like the one a `return` in the loop
    gives, found by tracing one iteration whose ops are discarded, as TF's AutoGraph does: the loop
    carries the return value, so it needs one from the start."""
    slots = [k for k, v in enumerate(state)
             if isinstance(v, UndefinedReturnValue) and names[k].startswith(RETVAL_PREFIX)]
    if not slots or trial is None:
        return state
    out = _trial_iteration(state, trial, opts)
    state = list(state)
    for k in slots:
        if not is_undefined(out[k]):
            state[k] = _zeros_like_spec(_spec_of(out[k], names[k], opts))
    return tuple(state)


def _trial_iteration(state: tuple, trial, opts: dict) -> tuple | None:
    """What one iteration of the loop body returns from `state`, traced into ops that are then discarded."""
    out = None
    try:
        with recording(get_default_graph(), f"a trial iteration of the loop at {where(opts)}"), _Tracing():
            out = tuple(trial(state))
            raise _Discard()
    except _Discard:
        pass
    return out


def _before_loop(name: str, opts: dict) -> Undefined:
    return Undefined(name, f"'{name}' must be defined before the loop ({where(opts)}: a loop over tensors is a "
                           "tf.while_loop, whose variables need a value before it starts)", ValueError)


def _loop_vars(state: tuple, names: tuple, opts: dict, trial=None, trip_count=None):
    """The slots that become tf.while_loop variables, the state the loop functions see otherwise (names
    without a value raise TF's error where read), and the loop variables' initial values as tensors.

    Lists the loop appends to become TensorArrays sized for `trip_count` iterations (lists.py)."""
    state = tuple(_before_loop(names[k], opts) if isinstance(v, Undefined) else v for k, v in enumerate(state))
    appended = lists.appended_slots(state, names, opts)
    if appended:
        out = _trial_iteration(lists.probes(state, appended), trial, opts)
        state = lists.tensor_lists(state, out, appended, trip_count, names, where(opts))
    state = _return_placeholders(state, names, opts, trial)
    defined = [k for k, v in enumerate(state) if not is_undefined(v)]
    template = [_before_loop(names[k], opts) if is_undefined(v) else v for k, v in enumerate(state)]
    initial = []
    for k in defined:
        value = state[k]
        try:
            initial.append(nest.pack_sequence_as(value, [leaf if isinstance(leaf, TensorArray) else convert_to_tensor(leaf)
                                                         for leaf in nest.flatten(value)]))
        except (TypeError, ValueError) as e:
            raise TypeError(f"{where(opts)}: '{names[k]}' is a variable of a loop over tensors (a "
                            f"tf.while_loop), so it must be a tensor, but it holds {value!r}: {e}") from None
    return defined, template, initial


def _full_state(template: list, defined: list, values) -> tuple:
    full = list(template)
    for k, v in zip(defined, values):
        full[k] = v
    return tuple(full)


def _loop_outputs(out: tuple, defined: list, names: tuple, opts: dict) -> list:
    result = []
    for k in defined:
        if is_undefined(out[k]):
            raise ValueError(f"{where(opts)}: '{names[k]}' has no value at the end of an iteration of this loop "
                             "over tensors; every loop variable needs one")
        result.append(out[k])
    return result


class _Tracing:
    def __enter__(self):
        _tensor_loop_depth[0] += 1
        _traced_statements.append("loop")

    def __exit__(self, *exc):
        _tensor_loop_depth[0] -= 1
        _traced_statements.pop()


def _loop_options(options: dict | None, maximum_iterations, opts: dict) -> dict:
    """tf.while_loop's keywords from the loop's tf.autograph.experimental.set_loop_options call, if any."""
    options = dict(options or {})
    if options.pop("shape_invariants", None) is not None:
        raise errors.unimplemented(f"{where(opts)}: set_loop_options(shape_invariants=...): xlite's loop variables "
                                   "keep their shapes, so there is nothing to relax")
    limit = options.pop("maximum_iterations", None)
    if limit is not None and maximum_iterations is not None:
        known = [getattr(convert_to_tensor(v), "_static_value", None) for v in (limit, maximum_iterations)]
        limit = int(min(known)) if None not in known else math_ops.minimum(limit, maximum_iterations)
    options["maximum_iterations"] = maximum_iterations if limit is None else limit
    return options


def _run_tf_loop(cond_fn, body_fn, first: list, initial: list, defined: list, template: list, opts: dict,
                 maximum_iterations=None):
    """tf.while_loop over `first` (extra leading loop variables) plus the defined state's `initial` values."""
    options = _loop_options(opts.get("loop_options"), maximum_iterations, opts)
    loop_vars = list(first) + list(initial)
    dummy = not loop_vars
    if dummy:   # TF needs a loop variable; a loop that only has effects gets a counter
        loop_vars = [0]
    n = len(first)

    def cond(*vars_):
        with _Tracing():
            return cond_fn(list(vars_[:n]), _full_state(template, defined, vars_[n:]))

    def body(*vars_):
        with _Tracing():
            result = body_fn(list(vars_[:n]), _full_state(template, defined, vars_[n:]))
        return tuple(result) if not dummy else (vars_[0] + 1,)

    out = tf_while_loop(cond, body, loop_vars, return_same_structure=True, **options)
    out = list(out) if isinstance(out, (list, tuple)) else [out]
    return out[:n], _full_state(template, defined, out[n:] if not dummy else [])


def _as_bool(value):
    if is_graph_tensor(value):
        return value
    return convert_to_tensor(bool(value))


def while_stmt(test_fn, body_fn, state: tuple, names: tuple, opts: dict) -> tuple:
    """A Python `while` until the test is a graph tensor; from then on a tf.while_loop."""
    state = tuple(state)
    while True:
        test = test_fn(*state)
        if is_graph_tensor(test):
            _refuse_unsupported(opts, "while")
            attrs, n = Composites(opts), len(state)
            if not attrs:
                return _tf_while(test_fn, body_fn, state, names, opts)
            out = _tf_while(attrs.wrap(test_fn, n, outputs=False), attrs.wrap(body_fn, n), state + attrs.read(),
                            names + attrs.labels(), opts)
            attrs.write(out[n:])
            return out[:n]
        if not test:
            return state
        state = tuple(body_fn(*state))


def _tf_while(test_fn, body_fn, state: tuple, names: tuple, opts: dict) -> tuple:
    defined, template, initial = _loop_vars(state, names, opts, lambda full: body_fn(*full))

    def cond(_, full):
        return _as_bool(test_fn(*full))

    def body(_, full):
        return _loop_outputs(tuple(body_fn(*full)), defined, names, opts)

    return _run_tf_loop(cond, body, [], initial, defined, template, opts)[1]


def for_stmt(iterable, extra_test, body_fn, state: tuple, names: tuple, opts: dict) -> tuple:
    """`for x in iterable`: a tf.while_loop over dim 0 of a graph tensor, else Python's loop.

    `extra_test` (None, or a function of the state) is false once a `break` or `return` ran."""
    state = tuple(state)
    dataset_elements = getattr(iterable, "_autograph_loop_elements", None)   # a tf.data.Dataset (xlite/data)
    if dataset_elements is not None and not executing_eagerly():   # TF loops in the graph (xlite/data/graph_loop.py)
        _refuse_unsupported(opts, "for")
        iterable = _StackedElements(dataset_elements(where(opts)))
    if is_graph_tensor(iterable) or isinstance(iterable, (TensorEnumerate, _StackedElements)):
        _refuse_unsupported(opts, "for")
        attrs, n = Composites(opts), len(state)
        if not attrs:
            return _tf_for(iterable, extra_test, body_fn, state, names, opts)
        test = None if extra_test is None else attrs.wrap(extra_test, n, outputs=False)
        out = _tf_for(iterable, test, attrs.wrap(body_fn, n, lead=1), state + attrs.read(), names + attrs.labels(),
                      opts)
        attrs.write(out[n:])
        return out[:n]
    for item in iterable:
        if extra_test is not None:
            go = extra_test(*state)
            if is_graph_tensor(go):   # a break under a tensor `if`: the rest of the iterations are conds
                state = if_stmt(go, lambda *s, item=item: tuple(body_fn(item, *s)), lambda *s: s, state, names,
                                opts)
                continue
            if not go:
                break
        state = tuple(body_fn(item, *state))
    return state


class _StackedElements:
    """A dataset's elements as segments, each a structure of graph tensors with a leading element dim (the
    elements of one shape, then a remainder of another): one tf.while_loop per segment, in order."""

    def __init__(self, segments: list):
        self.segments = segments


def _tf_for(iterable, extra_test, body_fn, state: tuple, names: tuple, opts: dict) -> tuple:
    counted = isinstance(iterable, TensorEnumerate)
    if isinstance(iterable, _StackedElements):
        for elements in iterable.segments:
            flat = nest.flatten(elements)
            n = flat[0].shape[0] if flat[0].shape[0] is not None else tf_shape(flat[0])[0]

            def element(i, elements=elements, flat=flat):
                return nest.pack_sequence_as(elements, [gather(t, i) for t in flat])
            state = _counted_loop(n, element, None, extra_test, body_fn, state, names, opts)
        return state
    tensor = convert_to_tensor(iterable.tensor if counted else iterable)
    if tensor.shape.ndims == 0:
        raise TypeError(f"{where(opts)}: cannot iterate over a scalar tensor ({tensor.name})")
    known = tensor.shape.ndims is not None and tensor.shape[0] is not None
    if tensor.op.type == "Range":   # tf.range: count and compute the elements, never materialize the range
        start, limit, delta = tensor.op.inputs
        n = tensor.shape[0] if known else _range_length(start, limit, delta)

        def element(i):
            return start + math_ops.cast(i, tensor.dtype) * delta
    else:
        n = tensor.shape[0] if known else tf_shape(tensor)[0]

        def element(i):
            return tensor[i]
    return _counted_loop(n, element, iterable.start if counted else None, extra_test, body_fn, state, names, opts)


def _counted_loop(n, element, start, extra_test, body_fn, state: tuple, names: tuple, opts: dict) -> tuple:
    """A tf.while_loop over items `element(i)` for i < n (`(i + start, element(i))` when `start` is not None)."""
    counted = start is not None
    zero = convert_to_tensor(0, dtype=dtypes.int32)

    def first_item():
        return (start, element(zero)) if counted else element(zero)
    defined, template, initial = _loop_vars(state, names, opts, lambda full: body_fn(first_item(), *full),
                                            trip_count=n if extra_test is None else None)

    def cond(first, full):
        more = math_ops.less(first[0], n)
        if extra_test is None:
            return more
        go = extra_test(*full)
        if is_graph_tensor(go):
            return math_ops.logical_and(more, go)
        return more if go else convert_to_tensor(False)

    def body(first, full):
        i = first[0]
        item = (i + start, element(i)) if counted else element(i)
        out = tuple(body_fn(item, *full))
        return [i + 1] + _loop_outputs(out, defined, names, opts)

    # the trip count bounds the loop, as in TF; a static one also makes it differentiable in xlite
    return _run_tf_loop(cond, body, [zero], initial, defined, template, opts, maximum_iterations=n)[1]


def _range_length(start, limit, delta):
    """How many elements tf.range(start, limit, delta) has: max(0, ceil((limit - start) / delta)), int32."""
    if start.dtype.is_integer:
        count = -math_ops.floordiv(start - limit, delta)
    else:
        count = math_ops.ceil((limit - start) / delta)
    return math_ops.maximum(math_ops.cast(count, dtypes.int32), 0)


def retval(value, did_return=None, opts: dict | None = None):
    """What a converted function whose returns were lowered to a flag returns.

    `did_return` comes with functions that may reach their end without a `return`: when it is a
    graph tensor, whether the function returns a value depends on a tensor, which TF refuses (a
    graph function has one output signature)."""
    if opts is not None and is_graph_tensor(did_return):
        raise ValueError(f"{where(opts)}, in a converted function: it returns a value under a tensor condition "
                         "but can also reach its end without `return`; a graph function returns the same "
                         "structure on every path, so add a final `return`")
    return None if isinstance(value, UndefinedReturnValue) else value


# lists and builtins -----------------------------------------------------------------------
def list_append(target, value, name: str, opts: dict):
    """`name.append(value)` on a list that lives outside the loop the call is in: in a loop over tensors a
    local list has become a TensorList (lists.py), whose append writes a TensorArray."""
    if _traced_statements and _traced_statements[-1] == "if" and isinstance(target, list):
        raise errors.unimplemented(
            f"{where(opts)}: '{name}.append(...)' under a tensor `if` (a tf.cond): how many items '{name}' gets "
            "would depend on the condition, while xlite's lists in graphs are TensorArrays of compile-time size. "
            "Append outside the `if`, or write to a preallocated tf.TensorArray.")
    if isinstance(target, lists.TensorList):
        return target.append(value)
    if type(target) is list and _tensor_loop_depth[0] > 0:
        raise errors.unimplemented(
            f"{where(opts)}: '{name}.append(...)' inside a loop over tensors (a tf.while_loop) on a list that is "
            f"not a local variable of the converted function: only a local list becomes a tf.TensorArray. Make "
            f"'{name}' local (and return it), or use a tf.TensorArray.")
    target.append(value)
    return target


class TensorEnumerate:
    """`enumerate(t)` of a graph tensor: for_stmt makes it a tf.while_loop yielding (int32 count, row)."""

    def __init__(self, tensor, start: int = 0):
        self.tensor, self.start = tensor, start


def enumerate_(iterable, start=0):
    return TensorEnumerate(iterable, start) if is_graph_tensor(iterable) else enumerate(iterable, start)


def cast_builtin(kind):
    """`int(x)` / `float(x)` of a graph tensor: tf.cast to int32 / float32, as TF's AutoGraph does."""
    def call(value=0, *args):
        if is_graph_tensor(value) and not args:
            return math_ops.cast(value, dtypes.int32 if kind is int else dtypes.float32)
        return kind(value, *args)
    return call


int_, float_ = cast_builtin(int), cast_builtin(float)


def range_(*args):
    """`range(...)`: tf.range when any argument is a graph tensor."""
    if any(is_graph_tensor(a) for a in args):
        return fill_ops.range(*args)
    return builtins.range(*args)


def len_(value):
    """`len(x)`: the static size of dim 0 where known, else a tensor (tf.shape(x)[0]); a list made a
    TensorArray in a tensor loop: its length tensor."""
    if isinstance(value, lists.TensorList):
        return value.length
    if is_graph_tensor(value):
        t = convert_to_tensor(value)
        if t.shape.ndims == 0:
            raise ValueError(f"len requires a non-scalar tensor, got one of shape {t.shape}")
        if t.shape.ndims is not None and t.shape[0] is not None:
            return t.shape[0]
        return tf_shape(t)[0]
    return len(value)


def converted_call(f, args: tuple, kwargs: dict):
    """A call in converted code: user functions are converted on first call (cached), the rest run as is."""
    from xlite.function.autograph import conversion
    return conversion.converted_call(f, args, kwargs)
