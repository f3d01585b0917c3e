"""The parser reads the printer's text back exactly: parse(print(m)) prints as m does."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from xlite.ir import dtypes
from xlite.ir.builder import Builder
from xlite.ir.module import Computation, Instruction, Metadata, Module
from xlite.ir.parser import ParseError, parse_module
from xlite.ir.printer import print_module
from xlite.ir.shape import Layout, Shape, TupleShape
from xlite.ir.verifier import verify_module

F32, S32, S64, PRED = dtypes.float32, dtypes.int32, dtypes.int64, dtypes.bool_


def assert_round_trips(module: Module) -> Module:
    text = print_module(module)
    parsed = parse_module(text)
    assert print_module(parsed) == text
    return parsed


def _module(entry: Computation, *subs: Computation, name: str = "m") -> Module:
    m = Module(name, entry)
    for c in subs + (entry,):
        c.root = c.root or c.instructions[-1]
        m.add_computation(c)
    return m


def elementwise_module() -> Module:
    b = Builder(Computation("main"))
    b.metadata = Metadata('dense/"BiasAdd"', "BiasAdd", "C:\\models\\train.py", 12)
    x = b.parameter(Shape(F32, (2, 3)), name="x.0")
    y = b.parameter(Shape(F32, (3,)), name="dense.kernel")
    yb = b.broadcast_in_dim(y, (2, 3), (1,))
    s = b.emit("add", (x, yb))
    e = b.emit("exp", (s,))
    c = b.compare(e, s, "GE")
    sel = b.emit("select", (c, e, s))
    r = b.reduce(sel, "max", (1,))
    t = b.transpose(sel, (1, 0))
    i = b.convert(t, S32)
    b.tuple([r, t, i, b.reshape(sel, (6,))])
    return _module(b.computation)


def constants_module() -> Module:
    b = Builder(Computation("consts"))
    values = [
        np.array([np.nan, np.inf, -np.inf, -0.0, 0.1, 1e-30, 3.4028235e38], np.float32),
        np.array([[0.1, 1 / 3], [2.5e300, -7.0]], np.float64),
        np.array([[True, False, True]]),
        np.array([np.iinfo(np.int64).min, np.iinfo(np.int64).max], np.int64),
        np.array(np.iinfo(np.uint32).max, np.uint32),
        np.array([-128, 127], np.int8),
        np.array(0.5, np.float16),
        np.zeros((0,), np.float32), np.zeros((2, 0), np.int32), np.zeros((0, 3), np.float32),
        np.float32(-2.5),
    ]
    consts = [b.constant(v) for v in values]
    b.tuple(consts)
    return _module(b.computation)


def attributes_module() -> Module:
    b = Builder(Computation("attrs"))
    x = b.parameter(Shape(F32, (1, 5, 5, 2)))
    k = b.parameter(Shape(F32, (3, 3, 2, 4)))
    ctr = b.parameter(Shape(S64, ()), name="rng_counter")
    conv = b.emit("convolution", (x, k), lhs_spec=(0, 3, 1, 2), rhs_spec=(3, 2, 0, 1), out_spec=(0, 3, 1, 2),
                  window_strides=(1, 2), padding=((0, 1), (1, 1)), lhs_dilation=(1, 1), rhs_dilation=(1, 1),
                  feature_group_count=1)
    pool = b.emit("reduce_window", (conv,), kind="max", window=(1, 2, 2, 1), strides=(1, 1, 1, 1),
                  padding=((0, 0), (0, 1), (0, 1), (0, 0)))
    r = b.emit("rng", (ctr,), Shape(F32, (2, 2)), distribution="normal", key=(1, 4294967295))
    am = b.emit("argmax", (r,), dimension=1, index_dtype=S32)
    io = b.iota(S32, (4, 3), 1)
    sl = b.emit("slice", (io,), start_indices=(0, 1), limit_indices=(4, 3), strides=(2, 1))
    pad = b.emit("pad", (sl, b.scalar(0, S32)), low=(1, 0), high=(0, 2), interior=(1, 0))
    cat = b.emit("concatenate", (io, io), dimension=0)
    rev = b.emit("reverse", (cat,), dimensions=(0, 1))
    g = b.emit("gather", (rev, am), axis=0)
    d = b.emit("dot", (r, r), lhs_batch_dims=(), rhs_batch_dims=(), lhs_contracting_dims=(1,),
               rhs_contracting_dims=(0,))
    cl = b.emit("clamp", (b.scalar(-1.0, F32), d, b.scalar(1.0, F32)))
    b.tuple([pool, pad, g, cl])
    return _module(b.computation)


def while_module() -> Module:
    state = TupleShape((Shape(S32, ()), Shape(F32, (3,))))
    cond = Builder(Computation("cond"))
    p = cond.parameter(state)
    i = cond.get_tuple_element(p, 0)
    cond.compare(i, cond.scalar(10, S32), "LT")
    body = Builder(Computation("body"))
    p = body.parameter(state)
    i, v = body.get_tuple_element(p, 0), body.get_tuple_element(p, 1)
    body.tuple([body.emit("add", (i, body.scalar(1, S32))), body.emit("mul", (v, v))])
    main = Builder(Computation("main"))
    init = main.tuple([main.scalar(0, S32), main.parameter(Shape(F32, (3,)))])
    w = main.computation.add(Instruction("while", [init], state, called=(cond.computation, body.computation)))
    main.get_tuple_element(w, 1)
    return _module(main.computation, cond.computation, body.computation, name="loop")


def conditional_and_fusion_module() -> Module:
    fused = Builder(Computation("fused_computation.1"))
    a, c = fused.parameter(Shape(F32, (4,))), fused.parameter(Shape(F32, (4,)))
    fused.emit("tanh", (fused.emit("add", (a, c)),))
    branch_t = Builder(Computation("true_branch"))
    branch_t.emit("neg", (branch_t.parameter(Shape(F32, (4,))),))
    branch_f = Builder(Computation("false_branch"))
    q = branch_f.parameter(Shape(F32, (4,)))
    branch_f.computation.add(Instruction("fusion", [q, q], Shape(F32, (4,)), {"kind": "loop"},
                                         called=(fused.computation,)))
    main = Builder(Computation("main"))
    pred = main.parameter(Shape(PRED, ()))
    x = main.parameter(Shape(F32, (4,)))
    main.computation.add(Instruction("conditional", [pred, x, x], Shape(F32, (4,)),
                                     called=(branch_t.computation, branch_f.computation)))
    return _module(main.computation, fused.computation, branch_t.computation, branch_f.computation)


def layouts_and_unknown_dims_module() -> Module:
    comp = Computation("main")
    p = comp.add(Instruction("parameter", [], Shape(F32, (None, 3), Layout((0, 1))), {"number": 0}))
    t = comp.add(Instruction("transpose", [p], Shape(F32, (3, None), Layout((1, 0))), {"dimensions": (1, 0)}))
    s = comp.add(Instruction("parameter", [], Shape(F32, (), Layout(())), {"number": 1}))
    inner = comp.add(Instruction("tuple", [s], TupleShape((s.shape,))))
    empty = comp.add(Instruction("tuple", [], TupleShape(())))
    comp.add(Instruction("tuple", [t, inner, empty], TupleShape((t.shape, inner.shape, empty.shape))))
    comp.root = comp.instructions[1]
    return _module(comp)


MODULES = [elementwise_module, constants_module, attributes_module, while_module,
           conditional_and_fusion_module, layouts_and_unknown_dims_module]


@pytest.mark.parametrize("make", MODULES, ids=lambda f: f.__name__)
def test_round_trip(make):
    module = make()
    parsed = assert_round_trips(module)
    assert [c.name for c in parsed.all_computations()] == [c.name for c in module.all_computations()]
    verify_module(module)
    verify_module(parsed)


def test_constants_keep_exact_values():
    module = constants_module()
    parsed = parse_module(print_module(module))
    for a, b in zip(module.entry.instructions[:-1], parsed.entry.instructions[:-1]):
        assert a.literal.dtype == b.literal.dtype and a.literal.shape == b.literal.shape
        assert a.literal.tobytes() == b.literal.tobytes()


def test_attribute_types():
    m = parse_module(print_module(attributes_module()))
    by_op = {i.opcode: i for i in m.entry.instructions}
    assert by_op["convolution"].attrs["padding"] == ((0, 1), (1, 1))
    assert by_op["rng"].attrs == {"distribution": "normal", "key": (1, 4294967295)}
    assert by_op["argmax"].attrs["index_dtype"] is S32
    assert by_op["reverse"].attrs["dimensions"] == (0, 1)
    assert m.entry.parameters[2].name == "rng_counter"
    convert = parse_module(print_module(elementwise_module())).entry
    assert next(i for i in convert.instructions if i.opcode == "convert").attrs["dtype"] is S32
    md = convert.instructions[0].metadata
    assert md == Metadata('dense/"BiasAdd"', "BiasAdd", "C:\\models\\train.py", 12)


def test_strings_that_look_like_other_values_stay_strings():
    comp = Computation("main")
    p = comp.add(Instruction("parameter", [], Shape(F32, ()), {"number": 0}))
    attrs = {"a": "1e5", "b": "007", "c": "true", "d": "nan", "e": "", "f": "two words", "g": "x\ny\\",
             "h": 2.0, "i": -3, "j": np.float64(0.1), "k": (), "l": ((1,), (2, 3)), "m": False}
    comp.add(Instruction("copy", [p], Shape(F32, ()), attrs))
    parsed = assert_round_trips(_module(comp))
    got = parsed.entry.root.attrs
    assert got == {**attrs, "j": 0.1}
    assert type(got["h"]) is float and type(got["i"]) is int and type(got["m"]) is bool


def test_dynamic_slices_round_trip():
    b = Builder(Computation("dyn"))
    x = b.parameter(Shape(F32, (5, 4)))
    i, j = b.parameter(Shape(S64, ())), b.parameter(Shape(S64, ()))
    u = b.parameter(Shape(F32, (2, 0)))
    s = b.emit("dynamic_slice", (x, i, j), dynamic_slice_sizes=(3, 1))
    one = b.emit("dynamic_slice", (b.reshape(x, (20,)), i), dynamic_slice_sizes=(7,))
    scalar = b.emit("dynamic_slice", (b.scalar(1.5, F32),), dynamic_slice_sizes=())
    b.tuple([s, one, scalar, b.emit("dynamic_update_slice", (x, u, j, i))])
    parsed = assert_round_trips(_module(b.computation))
    verify_module(parsed)
    by_name = {inst.name: inst for inst in parsed.entry.instructions}
    assert by_name[s.name].attrs["dynamic_slice_sizes"] == (3, 1)
    assert by_name[one.name].attrs["dynamic_slice_sizes"] == (7,)
    assert by_name[scalar.name].attrs["dynamic_slice_sizes"] == ()
    assert [o.name for o in by_name[s.name].operands] == [x.name, i.name, j.name]


def test_style_example_without_module_line():
    m = parse_module("""
      ENTRY e {
        %p = f32[2,3]{1,0} parameter(0)
        %t1 = f32[3,2]{1,0} transpose(%p), dimensions={1,0}
        ROOT %t2 = f32[2,3]{1,0} transpose(%t1), dimensions={1,0}
      }""")
    assert m.entry.name == "e" and m.entry.root.name == "t2"
    assert m.entry.root.operands[0].attrs["dimensions"] == (1, 0)
    assert m.entry.parameters[0].shape == Shape(F32, (2, 3), Layout((1, 0)))
    verify_module(m)
    assert_round_trips(m)


def test_names_without_percent_and_callee_defined_later():
    m = parse_module("""
      HloModule fwd
      ENTRY main {
        p = f32[3] parameter(0)
        ROOT f = f32[3] fusion(p), kind=loop, calls={neg_it}
      }
      neg_it {
        x = f32[3] parameter(0)
        ROOT n = f32[3] neg(x)
      }""")
    assert m.entry.root.called[0].name == "neg_it"
    verify_module(m)
    assert_round_trips(m)


def test_root_need_not_be_last():
    m = parse_module("""
      ENTRY e {
        %p = f32[2] parameter(0)
        ROOT %n = f32[2] neg(%p)
        %dead = f32[2] exp(%p)
      }""")
    assert m.entry.root.name == "n"
    assert_round_trips(m)


@pytest.mark.parametrize("text, message", [
    ("ENTRY e { ROOT %a = f32[] neg(%b) }", "not defined before its use"),
    ("ENTRY e { %p = f32[] parameter(0)\n %p = f32[] neg(%p) }", "defined twice"),
    ("ENTRY e { %p = f32[] parameter(0)\n ROOT %w = f32[] fusion(%p), calls={%nowhere} }", "unknown computation"),
    ("ENTRY e { %p = q32[] parameter(0) }", "unknown element type"),
    ("ENTRY e { %p = f32[] frobnicate(0) }", "unknown opcode"),
    ("ENTRY e { %c = f32[2] constant({1, oops}) }", "bad literal"),
    ("ENTRY e { %p = f32[] parameter(0)", "expected a name"),
    ("ENTRY e { ROOT %p = f32[] parameter(0)\n ROOT %q = f32[] neg(%p) }", "more than one ROOT"),
])
def test_errors_name_the_line(text, message):
    with pytest.raises(ParseError, match=message):
        parse_module(text)


_LITERAL_DTYPES = [np.float32, np.float64, np.float16, np.int32, np.int64, np.uint8, np.bool_]


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(_LITERAL_DTYPES).flatmap(
    lambda dt: hnp.arrays(dt, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3))))
def test_any_literal_round_trips(array):
    b = Builder(Computation("main"))
    b.constant(array)
    module = _module(b.computation)
    parsed = assert_round_trips(module)
    got = parsed.entry.root.literal
    assert got.dtype == array.dtype and got.shape == array.shape
    assert got.tobytes() == np.ascontiguousarray(array).tobytes() or np.array_equal(got, array, equal_nan=True)


_ATTR_VALUES = st.recursive(
    st.one_of(st.integers(-2 ** 63, 2 ** 64), st.floats(allow_nan=False), st.booleans(), st.text(max_size=8),
              st.sampled_from([S32, F32, "sum", "EQ"])),
    lambda inner: st.lists(inner, max_size=3).map(tuple), max_leaves=8)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.from_regex(r"[a-z][a-z_]{0,6}", fullmatch=True).filter(lambda k: k != "calls"),
                       _ATTR_VALUES, max_size=4),
       st.text(max_size=10), st.text(max_size=10))
def test_any_attributes_and_metadata_round_trip(attrs, op_name, source_file):
    comp = Computation("main")
    p = comp.add(Instruction("parameter", [], Shape(F32, ()), {"number": 0}))
    comp.add(Instruction("copy", [p], Shape(F32, ()), attrs, metadata=Metadata(op_name, "Op", source_file, 7)))
    parsed = assert_round_trips(_module(comp)).entry.root
    assert parsed.metadata.op_name == op_name and parsed.metadata.source_file == source_file
