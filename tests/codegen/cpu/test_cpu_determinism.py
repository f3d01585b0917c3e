"""The same LLVM IR gives bit-identical results at every LLVM optimization level: tiered code (-O0 first,
-O3 later, codegen/cpu/tiers.py) and cold and warm caches never change a run's numbers."""
import sys
from pathlib import Path

import numpy as np
import pytest

import xlite as tf
from cpu_check import module_from
from xlite.codegen.cpu import emit_llvm_ir
from xlite.codegen.cpu.compiler import LoadedCode, compile_to_object
from xlite.codegen.cpu.executable import CpuExecutable
from xlite.codegen.cpu.plan import entry_symbols
from xlite.frontend.lower import lower_run
from xlite.ir.symbolic import SymInt
from xlite.runtime.driver import optimize

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cuda"))
import cuda_cases  # noqa: E402

LENGTHS = (0, 1, 7, 10, 48, 63, 65, 1000, 1025, 3001)   # serial, 8, 16 x 3 and 64 lanes, past the 1024-term block


def results_at(compiled, levels, args) -> dict:
    """{level: outputs} of one module's LLVM IR compiled at each level."""
    text, plan = emit_llvm_ir(compiled)
    symbols = entry_symbols(plan.object_entry)
    out = {}
    for level in levels:
        exe = CpuExecutable(compiled.module, plan, LoadedCode(compile_to_object(text, speed_level=level), symbols))
        out[level] = [np.asarray(r) for r in exe.run([np.copy(a) for a in args])]
    return out


def assert_bit_identical(results: dict, what: str) -> None:
    (first, want), *rest = results.items()
    for level, got in rest:
        assert len(got) == len(want)
        for i, (g, w) in enumerate(zip(got, want)):
            assert g.dtype == w.dtype and g.shape == w.shape
            assert g.tobytes() == w.tobytes(), f"{what} output {i}: -O{level} differs from -O{first}"


def _sums(b, *params):
    """Row sums (row kernels, lanes), column sums (accumulating, pairwise columns), whole sums, softmax rows
    and small dots over every length."""
    outs = []
    for p in params:
        outs += [b.reduce(p, "sum", (1,)), b.reduce(p, "sum", (0,)), b.reduce(p, "sum", (0, 1)),
                 b.reduce(p, "prod", (1,))]
        outs.append(cuda_cases._dot(b, p, p, lc=(1,), rc=(1,)))      # contracting over the long dim
        if p.shape.dims[1]:
            outs += cuda_cases._softmax(b, p)
    return outs


@pytest.mark.parametrize("dtype", ["f32", pytest.param("f64", marks=pytest.mark.slow)])
def test_sums_are_bit_identical_at_o0_and_o3(dtype):
    rng = np.random.default_rng(5)
    specs = [(dtype, (3, n)) for n in LENGTHS]
    # magnitudes over many binades: any change in the order of additions shows in the last bits
    npdt = np.float32 if dtype == "f32" else np.float64
    args = [(rng.standard_normal(dims) * np.exp2(rng.integers(-20, 20, dims))).astype(npdt) for _, dims in specs]
    compiled = optimize(module_from(_sums, specs))
    assert_bit_identical(results_at(compiled, (0, 3), args), f"{dtype} sums")


def test_pow_of_constant_exponents_is_bit_identical_at_o0_and_o3():
    """LLVM's optimizer would make pow(x, 2) x * x and pow(x, 0.5) a square root (other roundings)."""
    exponents = (2.0, 0.5, -1.0, -0.5, 3.0)

    def build(b, p):
        return [b.emit("pow", (p, b.broadcast_in_dim(b.scalar(e, "f32"), p.shape.dims, ()))) for e in exponents]
    rng = np.random.default_rng(6)
    x = (rng.standard_normal(67) * np.exp2(rng.integers(-30, 30, 67))).astype(np.float32)
    x[:6] = [0.0, -0.0, np.inf, -np.inf, np.nan, -1.0]
    assert_bit_identical(results_at(optimize(module_from(build, [("f32", (67,))])), (0, 3), [x]), "pow")


def test_sums_of_run_time_length_are_bit_identical_at_o0_and_o3():
    """A symbolic row length: every group's lanes as for a long row, shorter rows in one zero-filled group."""
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [3, None])
        sums = [tf.reduce_sum(x, 1), tf.reduce_sum(tf.exp(x), 1), tf.reduce_sum(x)]
        lowered = lower_run(tf.get_default_graph(), sums, [], {x: (3, SymInt.symbol("n"))})
    compiled = optimize(lowered.module)
    rng = np.random.default_rng(7)
    for n in (1, 10, 64, 100, 1500):
        arg = (rng.standard_normal((3, n)) * np.exp2(rng.integers(-10, 10, (3, n)))).astype(np.float32)
        assert_bit_identical(results_at(compiled, (0, 3), [arg]), f"run-time length {n}")


CASE_NAMES = ("float_unary_f32_37", "float_unary_f64_37", "binary_f32", "reduce_f32_5x300", "reduce_f64_3x65",
              "reduce_f32_0x40", "reduce_f32_2x0", "reduce_split_1x8193", "reduce_split_2x4097",
              "reduce_split_kept_minor", "reduce_window", "dot_f32", "dot_batched", "convolution", "mlp_layer",
              "softmax", "sgd_update_in_place", "rng_normal", "while_row_sums")


@pytest.mark.slow
@pytest.mark.parametrize("name", CASE_NAMES)
def test_backend_cases_are_bit_identical_at_o0_and_o3(name):
    (case,) = [c for c in cuda_cases.CASES if c.name == name]
    args = case.args(np.random.default_rng(0))
    assert_bit_identical(results_at(optimize(case.build()), (0, 3), args), name)
