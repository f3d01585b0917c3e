"""The facts on each OpInfo agree with one another (the cpu backend's libm calls: tests/codegen/cpu/test_cpu_libm.py)."""
from xlite.ir.opcodes import ELEMENTWISE_KINDS, OPCODES, is_elementwise, op_info

KINDS = {"leaf", "shape", "reduce", "linalg", "structure", "collective", "host", *ELEMENTWISE_KINDS}


def test_every_opcode_has_a_known_kind_and_arity():
    for opcode in OPCODES:
        info = op_info(opcode)
        assert info.kind in KINDS, opcode
        assert info.arity is None or info.arity >= 0, opcode
        assert is_elementwise(opcode) == info.is_elementwise == (info.kind in ELEMENTWISE_KINDS)


def test_elementwise_arity_follows_the_kind():
    arity = {"unary": 1, "binary": 2, "ternary": 3}
    for opcode in OPCODES:
        info = op_info(opcode)
        if info.is_elementwise:
            assert info.arity == arity[info.kind], opcode


def test_expensive_ops_are_elementwise_and_cost_more_than_a_load():
    """Fusion and the row kernels only ever weigh elementwise ops; an expensive one must also weigh more in
    the cpu backend's per-element cost, or the two would disagree about it."""
    expensive = [o for o in OPCODES if op_info(o).expensive]
    assert expensive, "no expensive opcode: fusion would duplicate exp into every reader"
    for opcode in expensive:
        assert op_info(opcode).is_elementwise, f"{opcode} is expensive but not elementwise"
        assert op_info(opcode).cost > 1, f"{opcode} is expensive but costs what a load costs"
    for opcode in OPCODES:
        assert op_info(opcode).cost >= 1, opcode


def test_elementwise_ops_costlier_than_an_expensive_one_are_expensive():
    """`expensive` marks the costliest elementwise ops: none costs more than an expensive op without being one."""
    elementwise = [op_info(o) for o in OPCODES if op_info(o).is_elementwise]
    cheapest_expensive = min(i.cost for i in elementwise if i.expensive)
    for info in elementwise:
        if info.cost > cheapest_expensive:
            assert info.expensive, f"{info.name} costs {info.cost} but is not expensive"


def test_needs_libm_is_only_on_ops_that_compute():
    for opcode in OPCODES:
        info = op_info(opcode)
        if info.needs_libm:
            assert info.is_elementwise or opcode == "rng", opcode
