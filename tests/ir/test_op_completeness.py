"""Every opcode has a rule in every layer, and every frontend op type a gradient rule or a declared lack of
one: "every op on every backend" is checked, not remembered.

A layer that registers per-opcode rules adds its `has_*_rule` predicate to LAYERS.
"""
import pytest

import xlite  # noqa: F401  (registers every frontend op type)
from xlite.codegen.cpu import has_cpu_rule
from xlite.codegen.cuda import has_cuda_rule
from xlite.frontend.gradients import has_grad_rule
from xlite.frontend.op_registry import registered_op_types
from xlite.ir.opcodes import OPCODES, op_info
from xlite.ir.shape_inference import has_shape_rule
from xlite.semantics.eval_rules import has_eval_rule

LAYERS = {
    "shape rule (xlite/ir/shape_inference.py)": has_shape_rule,
    "interpreter rule (xlite/semantics/eval_rules.py)": has_eval_rule,
    "cpu rule (xlite/codegen/cpu)": has_cpu_rule,
    "cuda rule (xlite/codegen/cuda)": has_cuda_rule,
}

# Op types whose gradient is knowingly missing: tf.gradients through them raises LookupError, as TF does for
# an op without a registered gradient. Each is a gap to close, not a declaration that none exists.
GRADIENT_NOT_YET = {
    "WhileGradGrad": "third derivative through tf.while_loop",
    "ResizeArea": "tf.image.resize_area: TF registers no gradient either",
    "AdjustContrastv2": "tf.image.adjust_contrast: TF registers no gradient either",
    "AdjustSaturation": "tf.image.adjust_saturation: TF registers no gradient either",
    "AdjustHue": "tf.image.adjust_hue: TF registers no gradient either",
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


def test_every_op_type_has_a_gradient_rule_or_declares_none():
    """@grad_rule or no_gradient (xlite/frontend/gradients.py) for every op type with a lowering rule."""
    missing = [t for t in registered_op_types() if not has_grad_rule(t) and t not in GRADIENT_NOT_YET]
    assert missing == [], f"op types with neither a gradient rule nor no_gradient: {missing}"


def test_known_gradient_gaps_are_still_gaps():
    """A gap that gets its rule leaves GRADIENT_NOT_YET, so the list never hides a new op type."""
    closed = [t for t in GRADIENT_NOT_YET if has_grad_rule(t)]
    assert closed == [], f"remove from GRADIENT_NOT_YET, they have gradient rules now: {closed}"
    unknown = [t for t in GRADIENT_NOT_YET if t not in registered_op_types()]
    assert unknown == [], f"not frontend op types: {unknown}"
