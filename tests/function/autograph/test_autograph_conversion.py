"""AutoGraph's conversion: what the converted function sees (globals, closures, self, called functions), what
stays unconverted, and errors that name the user's file and line."""
import functools
import inspect
import re
import traceback

import numpy as np
import pytest

import xlite as tf
from xlite.function.autograph import convert, converted_call


def run(fetches, feed_dict=None):
    with tf.Session() as sess:
        return sess.run(fetches, feed_dict)


def op_types(graph):
    return [op.type for op in graph.get_operations()]


def line_of(fn, text: str) -> int:
    """The file line of the first source line of `fn` containing `text`."""
    lines, first = inspect.getsourcelines(fn)
    return first + next(i for i, line in enumerate(lines) if text in line)


def raises_at(error, fn, text):
    where = f'File "{re.escape(__file__)}", line {line_of(fn, text)}'
    return pytest.raises(error, match=where)


# where errors point -----------------------------------------------------------------------
def gen(x):
    if x > 0:
        yield x


def uses_global(x):
    global SCALE
    return x * SCALE


def uses_nonlocal():
    total = 0

    def add(x):
        nonlocal total
        total += x
    return add


def test_unsupported_constructs_name_file_and_line():
    with raises_at(tf.errors.UnimplementedError, gen, "yield"):
        convert(gen)
    with raises_at(tf.errors.UnimplementedError, uses_global, "global SCALE"):
        convert(uses_global)
    with raises_at(tf.errors.UnimplementedError, uses_nonlocal, "nonlocal total"):
        convert(uses_nonlocal)


def if_in_try(x):
    try:
        if x > 0:
            x = x + 1
    except ValueError:
        pass
    return x


def test_tensor_control_flow_inside_try_is_refused_at_its_line(graph):
    g = convert(if_in_try)
    assert g(1) == 2 and g(-1) == -1                   # Python values: plain Python
    with pytest.raises(tf.errors.UnimplementedError, match=f"line {line_of(if_in_try, 'if x > 0')}.*try"):
        g(tf.constant(1))


def defined_in_one_branch(x):
    if x > 0:
        y = x
        unused = 2 * x
    else:
        y = -x
    del_me = 0
    if x > 1:
        z = x
    return y + z + del_me


def test_variable_defined_in_one_branch_is_an_error_where_used(graph):
    g = convert(defined_in_one_branch)
    with pytest.raises(ValueError, match=r"'z' must also be initialized in the else branch.*line "
                                         f"{line_of(defined_in_one_branch, 'if x > 1')}"):
        g(tf.constant(3))
    with pytest.raises(UnboundLocalError):             # Python values: Python's error
        g(1)
    assert g(2) == 2 + 2                               # `unused` is defined in one branch only: no error


def defined_in_loop(n):
    i = 0
    while i < n:
        last = i
        i += 1
    return last


def test_variable_first_defined_in_a_tensor_loop_is_an_error_where_used(graph):
    g = convert(defined_in_loop)
    assert g(3) == 2
    with pytest.raises(ValueError, match="'last' must be defined before the loop"):
        g(tf.constant(3))


def appends(n):
    out = []
    for i in tf.range(n):
        out.append(i)
    return out


def appends_python(xs):
    out = []
    for x in xs:
        if x > 0:
            out.append(x)
    return out


def test_list_append_in_a_tensor_loop_becomes_a_tensor_array(graph):
    out = convert(appends)(tf.constant(3))   # a static trip count sizes the TensorArray
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(tf.stack(out)), [0, 1, 2])
    with raises_at(tf.errors.UnimplementedError, appends, "for i in tf.range(n)"):
        convert(appends)(tf.placeholder(tf.int32, []))   # a fed trip count cannot size it
    assert convert(appends_python)([1, -2, 3]) == [1, 3]   # Python values: Python's list


def fails_in_branch(x):
    if x > 0:
        raise ValueError("user error")
    return x


def test_tracebacks_point_at_the_users_lines(graph):
    g = convert(fails_in_branch)
    with pytest.raises(ValueError) as info:
        g(tf.constant(1))
    frames = [f for f in traceback.extract_tb(info.tb) if f.filename == __file__]
    assert frames[-1].lineno == line_of(fails_in_branch, "raise ValueError")
    assert frames[-1].line == 'raise ValueError("user error")'
    assert g.__code__.co_filename == __file__


# what the converted function sees ---------------------------------------------------------
SCALE = 3.0


def make_closure(offset):
    def f(x):
        if x > 0:
            y = x * SCALE + offset
        else:
            y = x - offset
        return y
    return f


def test_globals_and_closures_are_visible_and_live(graph):
    original = make_closure(10.0)
    g = convert(original)
    x = tf.placeholder(tf.float32, [])
    out = g(x)
    with tf.Session() as sess:
        assert [sess.run(out, {x: v}) for v in (2.0, -2.0)] == [original(2.0), original(-2.0)] == [16.0, -12.0]
    assert any(c is original.__closure__[0] for c in g.__closure__)   # the same cell, not a copy


def make_stepper():
    step = 1.0

    def f(x):
        if x > 0:
            x = x + step
        return x

    def set_step(value):
        nonlocal step
        step = value
    return f, set_step


def test_a_closure_changed_after_conversion_is_seen(graph):
    f, set_step = make_stepper()
    g = convert(f)
    assert g(1.0) == 2.0
    set_step(5.0)
    assert g(1.0) == f(1.0) == 6.0
    assert run(g(tf.constant(1.0))) == 6.0


def helper(x):
    if x > 0:
        return x * 2
    return x * 3


def calls_helper(x):
    return helper(x) + 1


def power(x, n):
    if n == 0:
        return tf.ones_like(x)
    return x * power(x, n - 1)


def test_called_user_functions_are_converted(graph):
    g = convert(calls_helper)
    x = tf.placeholder(tf.int32, [])
    out = g(x)
    assert "If" in op_types(graph)                     # helper's tensor `if` became a cond
    with tf.Session() as sess:
        assert [sess.run(out, {x: v}) for v in (-4, 5)] == [calls_helper(-4), calls_helper(5)]


def test_recursion_with_a_python_base_case(graph):
    x = tf.constant(np.float32(1.5))
    out = convert(power)(x, 3)
    assert np.isclose(run(out), 1.5 ** 3)
    assert "If" not in op_types(graph)


class Scaler:
    def __init__(self, factor):
        self.factor = factor

    def apply(self, x):
        if x > 0:
            x = x * self.factor
        return x


class Doubler(Scaler):
    def apply(self, x):
        y = super().apply(x)
        if y < 0:
            y = y * 2.0
        return y


def test_methods_and_zero_argument_super(graph):
    x = tf.placeholder(tf.float32, [])
    method = convert(Scaler(4.0).apply)
    derived = convert(Doubler(4.0).apply)
    via_call = converted_call(Doubler(5.0).apply, (x,), {})
    outs = [method(x), derived(x), via_call]
    with tf.Session() as sess:
        for v in (-1.5, 2.0):
            assert sess.run(outs, {x: v}) == [Scaler(4.0).apply(v), Doubler(4.0).apply(v), Doubler(5.0).apply(v)]


registered = []


def register(fn):
    registered.append(fn)
    return fn


@register
def decorated(x):
    """Doc of decorated."""
    if x > 0:
        x = -x
    return x


def test_decorators_are_not_rerun_and_wraps_attributes_kept(graph):
    g = convert(decorated)
    assert len(registered) == 1
    assert g.__name__ == "decorated" and g.__doc__ == "Doc of decorated." and g.__wrapped__ is decorated
    assert g.__module__ == decorated.__module__ and g.__qualname__ == decorated.__qualname__
    assert run(g(tf.constant(3))) == -3
    assert convert(decorated) is g                      # cached per function


def test_decorated_with_tf_function_seed_as_written():
    @tf.function
    def my_function(x):
        if x > 0:
            y = x * x
        else:
            y = -x
        return y
    assert [int(v) for v in run([my_function(tf.constant(2)), my_function(tf.constant(-3))])] == [4, 3]


@tf.autograph.experimental.do_not_convert
def not_converted(x):
    if x > 0:
        return x
    return -x


def test_do_not_convert_and_to_graph(graph):
    assert tf.autograph.to_graph(not_converted) is not_converted
    g = tf.autograph.to_graph(lambda x: not_converted(x))
    with pytest.raises(TypeError, match="as a Python `bool`"):
        g(tf.constant(1))
    assert g(-2) == 2


def test_unavailable_source_runs_unconverted(graph):
    namespace = {}
    exec("def made(x):\n    return x + 1\n", namespace)   # noqa: S102
    assert convert(namespace["made"]) is namespace["made"]
    assert convert(abs) is abs and converted_call(abs, (-2,), {}) == 2
    pair = [lambda x: x and 1, lambda x: x or 2]          # two lambdas on one line: no telling which
    assert convert(pair[0]) is pair[0]


def test_a_lambda_alone_on_its_line_is_converted(graph):
    between = lambda x: x > 0 and x < 5   # noqa: E731
    g = convert(between)
    x = tf.placeholder(tf.int32, [])
    out = g(x)
    assert "LogicalAnd" in op_types(graph)
    with tf.Session() as sess:
        assert [bool(sess.run(out, {x: v})) for v in (-1, 3, 7)] == [between(-1), between(3), between(7)]


def test_partial_and_keyword_arguments(graph):
    def scale(x, factor=2.0, *, shift=0.0):
        if x > 0:
            x = x * factor
        return x + shift
    g = convert(functools.partial(scale, factor=3.0))
    out = g(tf.constant(2.0), shift=1.0)
    assert run(out) == scale(2.0, factor=3.0, shift=1.0) == 7.0
    assert convert(scale)(2.0) == 4.0                     # defaults come from the original


class Indented:
    def method(self, x):
        message = """a string whose lines
are less indented than the method"""
        if x > 0:
            x = -x
        return x, message


def test_an_indented_method_with_an_unindented_string_is_converted(graph):
    out, message = convert(Indented().method)(tf.constant(4))
    assert run(out) == -4 and message.startswith("a string")
    assert "If" in op_types(graph)


class Counter:
    def __init__(self):
        self.count = 0
        self.table = {}

    def bump(self, x):
        if x > 0:
            self.count = self.count + 1
        return x

    def total(self, n):
        self.count = 0
        for i in tf.range(n):
            if i % 2 > 0:
                self.count += i
        return self.count

    def store(self, x):
        if x > 0:
            self.table["last"] = x
        return x


def test_attributes_assigned_under_tensor_control_flow_are_carried(graph):
    counter = Counter()
    g = convert(counter.bump)
    assert g(3) == 3 and counter.count == 1                 # Python values: Python
    x = tf.placeholder(tf.int32, [])
    g(x)
    bumped = counter.count                                  # a cond output now, not the last traced branch
    with tf.Session() as sess:
        assert [sess.run(bumped, {x: v}) for v in (5, -5)] == [2, 1]
    total = convert(counter.total)(tf.constant(7))
    assert run(total) == sum(i for i in range(7) if i % 2) and counter.count is total


def test_assigning_an_item_under_a_tensor_test_is_refused_at_its_line(graph):
    counter = Counter()
    g = convert(counter.store)
    assert g(3) == 3 and counter.table == {"last": 3}       # Python values: Python
    with raises_at(tf.errors.UnimplementedError, Counter.store, "if x > 0"):
        g(tf.constant(3))


calls_seen = 0


def counts_calls(x):
    global calls_seen
    calls_seen += 1
    return x * 2


def calls_a_function_with_global(x):
    if x > 0:
        x = counts_calls(x)
    return x


def test_a_called_function_that_cannot_be_converted_runs_as_is(graph):
    g = convert(calls_a_function_with_global)
    out = g(tf.constant(3))
    assert run(out) == 6 and calls_seen == 1           # called once, when the true branch was traced
    with pytest.raises(tf.errors.UnimplementedError):
        convert(counts_calls)                           # converting it directly still refuses
