"""The exact text the printer gives for small modules: names, shapes, layouts, attributes, literals, metadata."""
import numpy as np
import pytest

from xlite.ir import dtypes
from xlite.ir.builder import Builder
from xlite.ir.module import Computation, Instruction, Metadata, Module
from xlite.ir.printer import format_attr, format_literal, print_instruction, print_module
from xlite.ir.shape import Layout, Shape, TupleShape

F32 = dtypes.float32


def named(inst, name):
    inst.name = name
    return inst


def test_dense_layer_module():
    b = Builder(Computation("main"))
    x = b.parameter(Shape(F32, (128, 64), Layout((1, 0))), name="x")
    w = b.parameter(Shape(F32, (64, 10), Layout((0, 1))), name="w")
    b.metadata = Metadata("dense/MatMul", "MatMul", "model.py", 12)
    d = named(b.emit("dot", (x, w), lhs_batch_dims=(), rhs_batch_dims=(), lhs_contracting_dims=(1,),
                     rhs_contracting_dims=(0,)), "dot.2")
    d.shape = d.shape.with_layout(Layout((1, 0)))
    b.metadata = Metadata("dense/BiasAdd", "BiasAdd", "model.py", 12)
    bias = named(b.constant(np.array([0.5, -1.0], np.float32)), "bias")
    bc = named(b.emit("broadcast_in_dim", (bias,), Shape(F32, (64, 2)), dimensions=(1,)), "broadcast.1")
    b.metadata = Metadata()
    r = named(b.emit("reduce", (d,), kind="sum", dimensions=(0, 1)), "total")
    b.computation.root = named(b.tuple([r, bc]), "out")
    m = Module("dense", b.computation)
    m.add_computation(b.computation)
    assert print_module(m) == """\
HloModule dense

ENTRY %main {
  %x = f32[128,64]{1,0} parameter(0)
  %w = f32[64,10]{0,1} parameter(1)
  %dot.2 = f32[128,10]{1,0} dot(%x, %w), lhs_batch_dims={}, lhs_contracting_dims={1}, rhs_batch_dims={}, \
rhs_contracting_dims={0}, metadata={op_name="dense/MatMul" op_type="MatMul" source_file="model.py" source_line=12}
  %bias = f32[2] constant({0.5, -1.0}), metadata={op_name="dense/BiasAdd" op_type="BiasAdd" \
source_file="model.py" source_line=12}
  %broadcast.1 = f32[64,2] broadcast_in_dim(%bias), dimensions={1}, metadata={op_name="dense/BiasAdd" \
op_type="BiasAdd" source_file="model.py" source_line=12}
  %total = f32[] reduce(%dot.2), dimensions={0,1}, kind=sum
  ROOT %out = (f32[], f32[64,2]) tuple(%total, %broadcast.1)
}
"""


@pytest.mark.parametrize("array,text", [
    (np.array([np.nan, np.inf, -np.inf, -0.0, 0.0], np.float32), "{nan, inf, -inf, -0.0, 0.0}"),
    (np.array([0.1, 1e20, -2.5, 3.4028235e38, 1e-45], np.float32), "{0.1, 1e+20, -2.5, 3.4028235e+38, 1e-45}"),
    (np.array([0.1, 1 / 3, -1e-300], np.float64), "{0.1, 0.3333333333333333, -1e-300}"),
    (np.array([[1, -2, 3], [-2147483648, 0, 2147483647]], np.int32), "{{1, -2, 3}, {-2147483648, 0, 2147483647}}"),
    (np.array([-(2 ** 63), 2 ** 63 - 1], np.int64), "{-9223372036854775808, 9223372036854775807}"),
    (np.array([[True], [False]]), "{{true}, {false}}"),
    (np.array(-0.0, np.float64), "-0.0"),
    (np.array(7, np.int64), "7"),
    (np.zeros((0,), np.float32), "{}"),
    (np.zeros((2, 0), np.int32), "{{}, {}}"),
    (np.array([1.0, 2.0], np.float16), "{1.0, 2.0}"),
])
def test_literals(array, text):
    assert format_literal(array) == text
    c = named(Instruction("constant", (), Shape(dtypes.as_dtype(array.dtype), array.shape), literal=array), "c")
    assert print_instruction(c) == f"%c = {c.shape} constant({text})"


def test_float32_literals_print_the_shortest_text_that_reads_back():
    values = np.random.default_rng(0).standard_normal(200).astype(np.float32)
    for v in values:
        text = format_literal(np.array(v))
        assert np.float32(float(text)) == v and len(text) <= 15


@pytest.mark.parametrize("value,text", [
    (True, "true"), (False, "false"), (np.bool_(True), "true"), (3, "3"), (np.int64(-4), "-4"),
    (0.5, "0.5"), (np.float32(0.25), "0.25"), (float("nan"), "nan"), (float("-inf"), "-inf"),
    (dtypes.int64, "s64"), (dtypes.bool_, "pred"), ((), "{}"), ((1, 0), "{1,0}"), (((0, 1), (2, 3)), "{{0,1},{2,3}}"),
    ("sum", "sum"), ("EQ", "EQ"), ("truncated_normal", "truncated_normal"), ("a b", '"a b"'), ("", '""'),
    ("3x", '"3x"'), ("true", '"true"'), ("nan", '"nan"'), ('say "hi"', '"say \\"hi\\""'), ("a\\b", '"a\\\\b"'),
])
def test_attribute_values(value, text):
    assert format_attr(value) == text


def test_parameter_and_unknown_dims_and_attribute_order():
    p = named(Instruction("parameter", (), Shape(F32, (None, 3)), {"number": 2}), "feed.0")
    assert print_instruction(p) == "%feed.0 = f32[?,3] parameter(2)"
    q = named(Instruction("parameter", (), Shape(dtypes.bool_, (), Layout(())), {"number": 0}), "flag")
    assert print_instruction(q, is_root=True) == "ROOT %flag = pred[]{} parameter(0)"
    r = named(Instruction("rng", (p,), Shape(F32, (4, 1), Layout((0, 1))),
                          {"key": (1, 2), "distribution": "normal"}), "noise")
    assert print_instruction(r) == "%noise = f32[4,1]{0,1} rng(%feed.0), distribution=normal, key={1,2}"


def test_metadata_is_quoted_and_escaped():
    p = named(Instruction("parameter", (), Shape(F32, ()), {"number": 0},
                          metadata=Metadata('a/"b"', "Placeholder", "C:\\tmp\\m.py", 3)), "p")
    assert print_instruction(p) == ('%p = f32[] parameter(0), metadata={op_name="a/\\"b\\"" op_type="Placeholder" '
                                    'source_file="C:\\\\tmp\\\\m.py" source_line=3}')
    q = named(Instruction("parameter", (), Shape(F32, ()), {"number": 0}, metadata=Metadata(op_name="only")), "q")
    assert print_instruction(q) == '%q = f32[] parameter(0), metadata={op_name="only"}'


def test_while_module_prints_callees_before_callers():
    state = TupleShape((Shape(dtypes.int32, ()), Shape(F32, (3,))))
    body = Builder(Computation("body"))
    bp = named(body.parameter(state), "s")
    i = named(body.get_tuple_element(bp, 0), "i")
    one = named(body.scalar(1, "s32"), "one")
    body.computation.root = named(body.tuple([named(body.emit("add", (i, one)), "next"),
                                              named(body.get_tuple_element(bp, 1), "x")]), "t")
    cond = Builder(Computation("cond"))
    cp = named(cond.parameter(state), "s")
    limit = named(cond.scalar(10, "s32"), "limit")
    cond.computation.root = named(cond.compare(named(cond.get_tuple_element(cp, 0), "i"), limit, "LT"), "lt")
    main = Builder(Computation("main"))
    init = named(main.parameter(state), "init")
    main.computation.root = named(main.emit("while", (init,), called=(cond.computation, body.computation)), "loop")
    m = Module("loop", main.computation)
    for c in (main.computation, body.computation, cond.computation):   # callees print first, in call order
        m.add_computation(c)
    assert print_module(m) == """\
HloModule loop

%cond {
  %s = (s32[], f32[3]) parameter(0)
  %limit = s32[] constant(10)
  %i = s32[] get_tuple_element(%s), index=0
  ROOT %lt = pred[] compare(%i, %limit), direction=LT
}

%body {
  %s = (s32[], f32[3]) parameter(0)
  %i = s32[] get_tuple_element(%s), index=0
  %one = s32[] constant(1)
  %next = s32[] add(%i, %one)
  %x = f32[3] get_tuple_element(%s), index=1
  ROOT %t = (s32[], f32[3]) tuple(%next, %x)
}

ENTRY %main {
  %init = (s32[], f32[3]) parameter(0)
  ROOT %loop = (s32[], f32[3]) while(%init), calls={%cond,%body}
}
"""


def test_nested_calls_print_innermost_first():
    leaf = Computation("leaf", [named(Instruction("parameter", (), Shape(F32, ()), {"number": 0}), "a")])
    mid_p = named(Instruction("parameter", (), Shape(F32, ()), {"number": 0}), "b")
    mid = Computation("mid", [mid_p, named(Instruction("fusion", (mid_p,), Shape(F32, ()), {"kind": "loop"},
                                                       called=(leaf,)), "f")])
    main_p = named(Instruction("parameter", (), Shape(F32, ()), {"number": 0}), "c")
    main = Computation("main", [main_p, named(Instruction("fusion", (main_p,), Shape(F32, ()), {"kind": "loop"},
                                                          called=(mid,)), "g")])
    m = Module("nest", main)
    for c in (main, mid, leaf):
        m.add_computation(c)
    assert [c.name for c in m.all_computations()] == ["leaf", "mid", "main"]
    assert print_module(m).split("\n\n")[1:] == [
        "%leaf {\n  ROOT %a = f32[] parameter(0)\n}",
        "%mid {\n  %b = f32[] parameter(0)\n  ROOT %f = f32[] fusion(%b), kind=loop, calls={%leaf}\n}",
        "ENTRY %main {\n  %c = f32[] parameter(0)\n  ROOT %g = f32[] fusion(%c), kind=loop, calls={%mid}\n}\n",
    ]
