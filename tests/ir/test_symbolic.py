"""Symbolic sizes: the polynomial algebra, what is decided for every run and what raises, and the text form."""
import pytest

from xlite import errors
from xlite.ir import dtypes
from xlite.ir.builder import Builder, broadcast_dims
from xlite.ir.module import Computation, Module
from xlite.ir.parser import parse_module
from xlite.ir.printer import print_module
from xlite.ir.shape import Shape
from xlite.ir.symbolic import (SymbolicUnsupported, SymInt, align_up, check_consistent, dim_text, evaluate,
                               guess, parse_dim, upper_max)

b = SymInt.symbol("b")


def test_arithmetic_is_polynomial_and_folds_to_int():
    assert dim_text(784 * b + 3) == "784*b+3"
    assert (b * 784) // 16 == 49 * b
    assert (b * 784) % 16 == 0
    assert (b + 1) - b == 1 and type((b + 1) - b) is int
    assert evaluate(b * b * 2 - b, {"b": 5}) == 45


@pytest.mark.parametrize("make", [lambda: b // 3, lambda: b % 3, lambda: int(b), lambda: range(b), lambda: b > 100])
def test_what_needs_a_number_raises(make):
    with pytest.raises(SymbolicUnsupported):
        make()
    assert issubclass(SymbolicUnsupported, errors.UnimplementedError)


def test_comparisons_hold_for_every_size_or_raise():
    assert b + 1 > b and 784 * b >= b and b >= 1 and not b < 1 and max(b, 1) == b
    assert b != 1 and b == SymInt.symbol("b") and hash(b * 2) == hash(2 * b)
    assert guess(lambda: b > 100, False) is False
    assert upper_max(b, 64) == b + 64 and upper_max(2 * b, b) == 2 * b


def test_align_up_is_aligned_for_every_size():
    size = align_up(40 * b + 8, 64)
    for n in (1, 7, 1000):
        value = evaluate(size, {"b": n})
        assert value % 64 == 0 and value >= 40 * n + 8


def test_broadcasting_stretches_a_symbolic_size_only_against_a_static_one():
    assert broadcast_dims((b, 10), (10,)) == (b, 10)
    assert broadcast_dims((b, 1), (b, 10)) == (b, 10)
    with pytest.raises(ValueError):
        broadcast_dims((b, 10), (4, 10))        # b would have to be 1 or 4


def test_ir_text_round_trips_and_instantiates():
    comp = Computation("main")
    builder = Builder(comp)
    p = builder.parameter(Shape(dtypes.float32, (b, 784)))
    comp.root = builder.reshape(p, (784 * b,))
    module = Module("m", comp)
    module.add_computation(comp)
    text = print_module(module)
    assert "f32[b,784]" in text and "f32[784*b]" in text
    assert print_module(parse_module(text)) == text
    assert "f32[7,784]" in print_module(parse_module(text, {"b": 7}))
    assert parse_dim("784*b+1") == 784 * b + 1


def test_check_consistent_names_the_argument():
    import numpy as np
    dims = [(b, 3), (b,)]
    assert check_consistent(dims, [np.zeros((4, 3)), np.zeros(4)]) == {"b": 4}
    with pytest.raises(errors.InvalidArgumentError, match="parameter 1"):
        check_consistent(dims, [np.zeros((4, 3)), np.zeros(5)])
