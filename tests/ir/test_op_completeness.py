"""Every opcode has a rule in every layer: "every op on every backend" is checked, not remembered.

A layer that registers per-opcode rules adds its `has_*_rule` predicate to LAYERS.
"""
import pytest

from xlite.codegen.cuda import has_cuda_rule
from xlite.ir.opcodes import OPCODES, op_info
from xlite.ir.shape_inference import has_shape_rule
from xlite.runtime.interpreter import has_eval_rule

LAYERS = {
    "shape rule (xlite/ir/shape_inference.py)": has_shape_rule,
    "interpreter rule (xlite/runtime/interpreter.py)": has_eval_rule,
    "cuda rule (xlite/codegen/cuda)": has_cuda_rule,
}


@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_every_opcode_has_a_rule(layer):
    missing = [op for op in OPCODES if not LAYERS[layer](op)]
    assert missing == [], f"opcodes without a {layer}: {missing}"


def test_rules_are_registered_only_for_known_opcodes():
    for opcode in OPCODES:
        assert op_info(opcode).name == opcode
    for layer, has_rule in LAYERS.items():
        assert not has_rule("matmul"), f"{layer} claims a rule for an unknown opcode"
