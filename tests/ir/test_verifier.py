"""The verifier accepts well-formed modules and rejects each kind of malformed one, naming the culprit."""
import numpy as np
import pytest

from xlite.ir import dtypes
from xlite.ir.module import Computation, Instruction, Module
from xlite.ir.shape import Layout, Shape, TupleShape
from xlite.ir.verifier import VerificationError, verify_module

F32 = Shape(dtypes.float32, (2, 3))
S32 = Shape(dtypes.int32, ())
PRED = Shape(dtypes.bool_, ())


def param(shape, number, name=None):
    return Instruction("parameter", (), shape, {"number": number}, name=name)


def inst(opcode, operands, shape, name=None, called=(), **attrs):
    return Instruction(opcode, operands, shape, attrs, name=name, called=called)


def module_of(entry, *subs, layouts_assigned=False):
    m = Module("m", entry)
    for c in subs + (entry,):
        m.add_computation(c)
    m.layouts_assigned = layouts_assigned
    return m


def single(*instructions, root=None):
    return module_of(Computation("main", list(instructions), root))


def rejects(module, *fragments):
    with pytest.raises(VerificationError) as info:
        verify_module(module)
    for fragment in fragments:
        assert fragment in str(info.value), (fragment, str(info.value))
    return str(info.value)


def add_module(shape=F32):
    p0, p1 = param(F32, 0, "x"), param(F32, 1, "y")
    return single(p0, p1, inst("add", (p0, p1), shape, "sum"))


# well-formed -----------------------------------------------------------------------------------
def test_well_formed_module_passes():
    verify_module(add_module())
    assert issubclass(VerificationError, ValueError)


def test_entry_parameters_may_be_created_in_any_order():
    p1, p0 = param(S32, 1, "b"), param(F32, 0, "a")
    verify_module(single(p1, p0, inst("tuple", (p0, p1), TupleShape((F32, S32)))))


def test_unknown_dims_and_explicit_results_pass():
    p = param(Shape(dtypes.float32, (None, 3)), 0)
    r = inst("reshape", (p,), Shape(dtypes.float32, (3, None)))
    c = Instruction("constant", (), Shape(dtypes.int32, (2,)), literal=np.array([1, 2], np.int32))
    verify_module(single(p, r, c, inst("tuple", (r, c), TupleShape((r.shape, c.shape)))))


# operands, names, roots --------------------------------------------------------------------------
def test_operand_used_before_definition():
    p0, p1 = param(F32, 0, "x"), param(F32, 1, "y")
    a = inst("add", (p0, p1), F32, "sum")
    n = inst("neg", (a,), F32, "negated")
    rejects(single(p0, p1, n, a, root=a), "%negated", "operand %sum is not defined before use")


def test_operand_from_another_computation():
    other = param(F32, 0, "elsewhere")
    p = param(F32, 0, "x")
    rejects(single(p, inst("add", (p, other), F32, "sum")), "%sum", "operand %elsewhere is not defined")


def test_instruction_listed_twice_and_names_used_twice():
    p = param(F32, 0, "x")
    n = inst("neg", (p,), F32, "n")
    rejects(single(p, n, n), "appears twice")
    rejects(single(p, n, inst("abs", (p,), F32, "n")), "name %n is used twice")


def test_root_missing_or_outside_the_computation():
    p = param(F32, 0, "x")
    m = single(p)
    m.entry.root = None
    rejects(m, "computation %main", "no root")
    stray = inst("neg", (p,), F32, "stray")
    rejects(single(p, root=stray), "%stray", "root is not an instruction of this computation")
    rejects(Module("empty"), "no entry computation")


def test_two_computations_with_one_name():
    body = Computation("main", [param(F32, 0)])
    p = param(F32, 0)
    f = inst("fusion", (p,), F32, called=(body,), kind="loop")
    rejects(module_of(Computation("main", [p, f]), body), "two computations named %main")


# shapes -------------------------------------------------------------------------------------------
def test_shape_differs_from_the_inferred_one():
    msg = rejects(add_module(Shape(dtypes.float32, (3, 2))), "%sum (add)", "differs from the inferred f32[2,3]")
    assert "f32[3,2]" in msg
    rejects(add_module(Shape(dtypes.float64, (2, 3))), "%sum", "differs from the inferred")


def test_shape_rule_errors_are_reported_with_the_instruction():
    p0, p1 = param(F32, 0), param(Shape(dtypes.int32, (2, 3)), 1)
    rejects(single(p0, p1, inst("add", (p0, p1), F32, "mixed")), "%mixed", "operand dtypes differ")
    p = param(F32, 0)
    rejects(single(p, inst("reshape", (p,), Shape(dtypes.float32, (7,)), "r")), "%r", "cannot reshape")
    rejects(single(p, inst("transpose", (p,), F32, "t")), "%t", "KeyError")        # no dimensions attribute


def test_explicit_result_ops_are_checked_with_their_result():
    p = param(Shape(dtypes.float32, (3,)), 0)
    bad = inst("broadcast_in_dim", (p,), Shape(dtypes.float32, (2, 4)), "bc", dimensions=(1,))
    rejects(single(p, bad), "%bc", "cannot broadcast")
    rejects(single(param(Shape(dtypes.float32, (2, -1)), 0, "neg_dim")), "%neg_dim", "negative dimension")
    i = inst("iota", (), Shape(dtypes.int32, (4,)), "io", dimension=1)
    rejects(single(i), "%io", "out of range")


def test_constant_literal_must_match_its_shape():
    c = Instruction("constant", (), Shape(dtypes.float32, (3,)), literal=np.zeros(3, np.float64), name="c")
    rejects(single(c), "%c", "literal float64[3] does not match shape f32[3]")
    c = Instruction("constant", (), Shape(dtypes.float32, (2,)), literal=np.zeros(3, np.float32), name="c")
    rejects(single(c), "%c", "does not match")
    rejects(single(Instruction("constant", (), F32, name="c")), "%c", "constant without a literal")


# parameters ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("numbers", [(0, 0), (0, 2), (1,), (-1,)])
def test_parameter_numbers_must_be_zero_to_n_minus_one(numbers):
    params = [param(F32, n) for n in numbers]
    rejects(single(*params, inst("tuple", params, TupleShape((F32,) * len(params)))),
            "computation %main", "parameter numbers")


# calls ---------------------------------------------------------------------------------------------
STATE = TupleShape((S32, F32))


def loop_parts(cond_root_shape=PRED, body_result=STATE, cond_param=STATE):
    cp = param(cond_param, 0, "cs")
    if cond_root_shape == PRED:
        i = inst("get_tuple_element", (cp,), S32, "ci", index=0)
        lim = Instruction("constant", (), S32, literal=np.int32(3), name="lim")
        cond = Computation("cond", [cp, i, lim, inst("compare", (i, lim), PRED, "lt", direction="LT")])
    else:
        cond = Computation("cond", [cp, inst("get_tuple_element", (cp,), S32, "ci", index=0)])
    bp = param(STATE, 0, "bs")
    if body_result == STATE:
        body = Computation("body", [bp])
    else:
        body = Computation("body", [bp, inst("get_tuple_element", (bp,), F32, "bx", index=1)])
    return cond, body


def while_module(cond, body, register=True, called=None):
    i, x = param(S32, 0, "i"), param(F32, 1, "x")
    t = inst("tuple", (i, x), STATE, "init")
    w = inst("while", (t,), STATE, "loop", called=called or (cond, body))
    entry = Computation("main", [i, x, t, w])
    return module_of(entry, *((cond, body) if register else ()))


def test_while_well_formed():
    verify_module(while_module(*loop_parts()))


def test_while_condition_must_return_pred_scalar():
    rejects(while_module(*loop_parts(cond_root_shape=S32)), "%loop", "condition %cond returns s32[], expected pred[]")


def test_while_condition_must_take_the_state():
    cond, body = loop_parts(cond_param=TupleShape((S32,)))
    cond.instructions[1].shape = S32
    rejects(while_module(cond, body), "%loop", "condition %cond parameter 0 is (s32[]), expected (s32[], f32[2,3])")


def test_while_body_must_return_the_state():
    rejects(while_module(*loop_parts(body_result=F32)), "%loop", "body %body returns f32[2,3]")


def test_while_calls_two_registered_computations():
    cond, body = loop_parts()
    rejects(while_module(cond, body, register=False), "%loop", "not registered in the module")
    rejects(while_module(cond, body, called=(cond,)), "%loop", "while calls 2 computation(s), got 1")


def test_only_callers_call():
    cond, body = loop_parts()
    p = param(F32, 0)
    m = module_of(Computation("main", [p, inst("neg", (p,), F32, "n", called=(body,))]), body)
    rejects(m, "%n", "neg calls no computations")


def test_recursive_calls_are_rejected():
    p = param(F32, 0)
    comp = Computation("f", [p])
    comp.instructions.append(inst("fusion", (p,), F32, "again", called=(comp,), kind="loop"))
    q = param(F32, 0)
    rejects(module_of(Computation("main", [q, inst("fusion", (q,), F32, called=(comp,), kind="loop")]), comp),
            "recursively")


def branch(name, shape, result_opcode="neg"):
    p = param(shape, 0, name + ".p")
    return Computation(name, [p, inst(result_opcode, (p,), shape, name + ".r")])


def conditional_module(branches, operand_shapes, result=F32, selector=PRED):
    s = param(selector, 0, "sel")
    args = [param(shape, k + 1) for k, shape in enumerate(operand_shapes)]
    c = inst("conditional", [s] + args, result, "cond", called=tuple(branches))
    return module_of(Computation("main", [s] + args + [c]), *branches)


def test_conditional_well_formed():
    verify_module(conditional_module([branch("t", F32), branch("f", F32, "abs")], [F32, F32]))
    verify_module(conditional_module([branch("a", F32), branch("b", F32), branch("c", F32)], [F32] * 3,
                                     selector=S32))


def test_conditional_branch_must_take_its_operand():
    f64 = Shape(dtypes.float64, (2, 3))
    rejects(conditional_module([branch("t", F32), branch("f", F32)], [F32, f64]),
            "%cond", "branch 1 %f parameter 0 is f32[2,3], expected f64[2,3]")


def test_conditional_branch_must_return_the_result_shape():
    f64 = Shape(dtypes.float64, (2, 3))
    rejects(conditional_module([branch("t", F32), branch("f", f64)], [F32, f64]),
            "%cond", "branch 1 %f returns f64[2,3], expected f32[2,3]")


def test_conditional_needs_one_branch_per_operand():
    rejects(conditional_module([branch("a", F32)], [F32, F32, F32], selector=S32),
            "%cond", "conditional calls 3 computation(s), got 1")


def fusion_module(param_shapes, operand_shapes, root_shape=F32, result=F32):
    params = [param(s, k, f"fp{k}") for k, s in enumerate(param_shapes)]
    body = Computation("fused", params + [inst("neg", (params[0],), root_shape, "fr")])
    args = [param(s, k) for k, s in enumerate(operand_shapes)]
    f = inst("fusion", args, result, "fus", called=(body,), kind="loop")
    return module_of(Computation("main", args + [f]), body)


def test_fusion_well_formed_and_malformed():
    verify_module(fusion_module([F32, S32], [F32, S32]))
    rejects(fusion_module([F32], [F32, S32]), "%fus", "fused computation %fused takes 1 parameters, expected 2")
    rejects(fusion_module([F32, S32], [F32, PRED]), "%fus", "parameter 1 is s32[], expected pred[]")
    f64 = Shape(dtypes.float64, (2, 3))
    rejects(fusion_module([f64], [f64], root_shape=f64, result=F32), "%fus", "returns f64[2,3], expected f32[2,3]")


def test_sub_computation_errors_name_the_sub_computation():
    p = param(F32, 0)
    body = Computation("fused", [p, inst("neg", (p,), Shape(dtypes.float32, (9,)), "bad")])
    q = param(F32, 0)
    m = module_of(Computation("main", [q, inst("fusion", (q,), F32, called=(body,), kind="loop")]), body)
    rejects(m, "computation %fused", "%bad")


# layouts -------------------------------------------------------------------------------------------
ROW = Layout((1, 0))


def laid(shape, layout=ROW):
    return Shape(shape.dtype, shape.dims, layout)


def test_layouts_checked_only_after_layout_assignment():
    p = param(F32, 0, "x")
    m = single(p, inst("neg", (p,), F32, "n"))
    verify_module(m)
    m.layouts_assigned = True
    rejects(m, "%x", "has no layout after layout assignment")
    p.shape = laid(F32)
    rejects(m, "%n", "no layout")
    m.entry.instructions[1].shape = laid(F32, Layout((0, 1)))
    verify_module(m)


@pytest.mark.parametrize("bad", [(0, 0), (1,), (2, 0), (0, 1, 2)])
def test_layout_must_be_a_permutation_of_the_dims(bad):
    p = param(laid(F32, Layout(bad)), 0, "x")
    rejects(module_of(Computation("main", [p]), layouts_assigned=True), "%x",
            f"layout {Layout(bad)} is not a permutation")


def test_tuple_leaves_need_layouts():
    s = Shape(dtypes.int32, (), Layout(()))
    p, q = param(laid(F32), 0), param(s, 1)
    t = inst("tuple", (p, q), TupleShape((laid(F32), S32)), "t")
    m = module_of(Computation("main", [p, q, t]), layouts_assigned=True)
    rejects(m, "%t", "s32[] has no layout")
    t.shape = TupleShape((laid(F32), s))
    verify_module(m)


def test_call_boundaries_must_agree_on_layouts_after_assignment():
    body_p = param(laid(F32, Layout((0, 1))), 0)
    body = Computation("fused", [body_p, inst("neg", (body_p,), laid(F32, Layout((0, 1))))])
    q = param(laid(F32), 0)
    f = inst("fusion", (q,), laid(F32, Layout((0, 1))), "fus", called=(body,), kind="loop")
    m = module_of(Computation("main", [q, f]), body, layouts_assigned=True)
    rejects(m, "%fus", "parameter 0 is f32[2,3]{0,1}, expected f32[2,3]{1,0}")
    m.layouts_assigned = False
    verify_module(m)
