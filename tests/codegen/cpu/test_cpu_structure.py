"""rng, while, conditional, tuples and fusions compiled for the CPU against the interpreter."""
import numpy as np
import pytest

from cpu_check import check, check_text, module_from, random_array, run_both
from xlite.codegen.cpu import compile_cpu, emit_llvm_ir
from xlite.ir import dtypes
from xlite.ir.shape import Shape
from xlite.runtime.driver import with_naive_buffers


@pytest.mark.parametrize("dims", [(0,), (1,), (7, 33), (1000,)])
def test_rng_uniform_is_bit_exact(dims):
    m = module_from(lambda b, c: [b.emit("rng", (c,), Shape(dtypes.float32, dims), distribution="uniform",
                                         key=(0x12345678, 0x9ABCDEF0)),
                                  b.emit("rng", (c,), Shape(dtypes.float64, dims), distribution="uniform",
                                         key=(1, 2))], [("s64", ())])
    ref, got = run_both(m, [np.int64(2 ** 33 + 5)])
    for r, g in zip(ref, got):
        np.testing.assert_array_equal(g, r)


@pytest.mark.parametrize("dist", ["normal", "truncated_normal"])
def test_rng_normal_within_rounding(dist):
    m = module_from(lambda b, c: [b.emit("rng", (c,), Shape(dtypes.float32, (4099,)), distribution=dist,
                                         key=(7, 11))], [("s64", ())])
    (got,) = check(m, [np.int64(3)], rtol=1e-5, atol=1e-6)
    assert abs(float(got.mean())) < 0.1 and 0.5 < float(got.std()) < 1.1


WHILE = """
%cond {
  %s = (s32[], f32[5]) parameter(0)
  %i = s32[] get_tuple_element(%s), index=0
  %n = s32[] constant(10)
  ROOT %lt = pred[] compare(%i, %n), direction=LT
}

%body {
  %s = (s32[], f32[5]) parameter(0)
  %i = s32[] get_tuple_element(%s), index=0
  %x = f32[5] get_tuple_element(%s), index=1
  %one = s32[] constant(1)
  %i2 = s32[] add(%i, %one)
  %h = f32[] constant(0.5)
  %hb = f32[5] broadcast_in_dim(%h), dimensions={}
  %x2 = f32[5] multiply(%x, %hb)
  %fi = f32[] convert(%i2), dtype=f32
  %f = f32[5] broadcast_in_dim(%fi), dimensions={}
  %x3 = f32[5] add(%x2, %f)
  ROOT %t = (s32[], f32[5]) tuple(%i2, %x3)
}

ENTRY %main {
  %x0 = f32[5] parameter(0)
  %z = s32[] constant(0)
  %init = (s32[], f32[5]) tuple(%z, %x0)
  %w = (s32[], f32[5]) while(%init), calls={%cond, %body}
  %n = s32[] get_tuple_element(%w), index=0
  %r = f32[5] get_tuple_element(%w), index=1
  ROOT %out = (s32[], f32[5], f32[5]) tuple(%n, %r, %x0)
}
"""


def test_while_loop_in_generated_code():
    x = np.arange(5, dtype=np.float32)
    check_text(WHILE.replace("multiply", "mul"), [x], rtol=1e-6)


def test_while_swapping_state():
    text = """
    %cond {
      %s = (s32[], s32[3], s32[3]) parameter(0)
      %i = s32[] get_tuple_element(%s), index=0
      %n = s32[] constant(3)
      ROOT %lt = pred[] compare(%i, %n), direction=LT
    }
    %body {
      %s = (s32[], s32[3], s32[3]) parameter(0)
      %i = s32[] get_tuple_element(%s), index=0
      %a = s32[3] get_tuple_element(%s), index=1
      %b = s32[3] get_tuple_element(%s), index=2
      %one = s32[] constant(1)
      %i2 = s32[] add(%i, %one)
      ROOT %t = (s32[], s32[3], s32[3]) tuple(%i2, %b, %a)
    }
    ENTRY %main {
      %a = s32[3] parameter(0)
      %b = s32[3] parameter(1)
      %z = s32[] constant(0)
      %init = (s32[], s32[3], s32[3]) tuple(%z, %a, %b)
      %w = (s32[], s32[3], s32[3]) while(%init), calls={%cond, %body}
      %ra = s32[3] get_tuple_element(%w), index=1
      %rb = s32[3] get_tuple_element(%w), index=2
      ROOT %out = (s32[3], s32[3]) tuple(%ra, %rb)
    }"""
    got = check_text(text, [np.array([1, 2, 3], np.int32), np.array([4, 5, 6], np.int32)])
    np.testing.assert_array_equal(got[0], [4, 5, 6])


COND = """
%yes {
  %p = (f32[4], f32[4]) parameter(0)
  %a = f32[4] get_tuple_element(%p), index=0
  %b = f32[4] get_tuple_element(%p), index=1
  ROOT %r = f32[4] add(%a, %b)
}
%no {
  %p = f32[4] parameter(0)
  ROOT %r = f32[4] negate_(%p)
}
ENTRY %main {
  %c = SEL parameter(0)
  %x = f32[4] parameter(1)
  %y = f32[4] parameter(2)
  %t = (f32[4], f32[4]) tuple(%x, %y)
  %k = f32[4] conditional(%c, %t, %y), calls={%yes, %no}
  ROOT %out = (f32[4]) tuple(%k)
}
""".replace("negate_", "neg")


@pytest.mark.parametrize("selector", [True, False])
def test_conditional_on_pred(selector):
    x, y = np.arange(4, dtype=np.float32), np.ones(4, np.float32)
    check_text(COND.replace("SEL", "pred[]"), [np.bool_(selector), x, y])


@pytest.mark.parametrize("selector", [-3, 0, 1, 9])
def test_conditional_on_index_clamps(selector):
    x, y = np.arange(4, dtype=np.float32), np.ones(4, np.float32)
    check_text(COND.replace("SEL", "s32[]"), [np.int32(selector), x, y])


def test_loop_fusion_computes_in_registers():
    """W1's expression as one loop fusion: one kernel, the same numbers as op by op."""
    text = """
    %fused {
      %x = f32[37,29] parameter(0)
      %h = f32[] constant(0.5)
      %hb = f32[37,29] broadcast_in_dim(%h), dimensions={}
      %o = f32[] constant(0.1)
      %ob = f32[37,29] broadcast_in_dim(%o), dimensions={}
      %a = f32[37,29] mul(%x, %hb)
      %a2 = f32[37,29] add(%a, %ob)
      %t = f32[37,29] tanh(%a2)
      %s = f32[37,29] logistic(%x)
      %ts = f32[37,29] mul(%t, %s)
      %c = f32[] constant(0.2)
      %cb = f32[37,29] broadcast_in_dim(%c), dimensions={}
      %d = f32[37,29] sub(%x, %cb)
      %z = f32[] constant(0)
      %zb = f32[37,29] broadcast_in_dim(%z), dimensions={}
      %m = f32[37,29] max(%d, %zb)
      ROOT %r = f32[37,29] add(%ts, %m)
    }
    ENTRY %main {
      %x = f32[37,29] parameter(0)
      %f = f32[37,29] fusion(%x), kind=loop, calls={%fused}
      ROOT %out = (f32[37,29]) tuple(%f)
    }"""
    x = random_array(np.random.default_rng(18), "f32", (37, 29), special=True)
    check_text(text, [x], ulps=4)


def test_input_and_output_fusions():
    text = """
    %softmax_sum {
      %x = f32[6,33] parameter(0)
      %m = f32[6] parameter(1)
      %mb = f32[6,33] broadcast_in_dim(%m), dimensions={0}
      %d = f32[6,33] sub(%x, %mb)
      %e = f32[6,33] exp(%d)
      ROOT %s = f32[6] reduce(%e), kind=sum, dimensions={1}
    }
    %dense {
      %x = f32[6,33] parameter(0)
      %w = f32[33,40] parameter(1)
      %bias = f32[40] parameter(2)
      %d = f32[6,40] dot(%x, %w), lhs_batch_dims={}, rhs_batch_dims={}, lhs_contracting_dims={1}, rhs_contracting_dims={0}
      %bb = f32[6,40] broadcast_in_dim(%bias), dimensions={1}
      %a = f32[6,40] add(%d, %bb)
      %z = f32[] constant(0)
      %zb = f32[6,40] broadcast_in_dim(%z), dimensions={}
      ROOT %r = f32[6,40] max(%a, %zb)
    }
    ENTRY %main {
      %x = f32[6,33] parameter(0)
      %w = f32[33,40] parameter(1)
      %bias = f32[40] parameter(2)
      %m = f32[6] reduce(%x), kind=max, dimensions={1}
      %s = f32[6] fusion(%x, %m), kind=input, calls={%softmax_sum}
      %h = f32[6,40] fusion(%x, %w, %bias), kind=output, calls={%dense}
      ROOT %out = (f32[6], f32[6,40]) tuple(%s, %h)
    }"""
    rng = np.random.default_rng(19)
    check_text(text, [random_array(rng, "f32", (6, 33)), random_array(rng, "f32", (33, 40)),
                      random_array(rng, "f32", (40,))], rtol=1e-5, atol=1e-4)


def test_multi_output_fusion_and_duplicate_outputs():
    text = """
    %two {
      %x = f32[9] parameter(0)
      %e = f32[9] exp(%x)
      %n = f32[9] neg(%e)
      ROOT %t = (f32[9], f32[9]) tuple(%e, %n)
    }
    ENTRY %main {
      %x = f32[9] parameter(0)
      %f = (f32[9], f32[9]) fusion(%x), kind=loop, calls={%two}
      %a = f32[9] get_tuple_element(%f), index=0
      %b = f32[9] get_tuple_element(%f), index=1
      %c = f32[3] constant({1, 2, 3})
      ROOT %out = (f32[9], f32[9], f32[9], f32[3], f32[9]) tuple(%a, %b, %a, %c, %x)
    }"""
    got = check_text(text, [np.linspace(-2, 2, 9, dtype=np.float32)], ulps=2)
    assert got[0] is not got[2]


def test_big_loops_split_over_threads(monkeypatch):
    """Kernels big enough to run on several threads give the same numbers, flat and nested loops."""
    monkeypatch.setenv("XLITE_NUM_THREADS", "3")
    rng = np.random.default_rng(21)
    x = random_array(rng, "f32", (1031, 1027))
    v = random_array(rng, "f32", (1027,))

    def build(b, p, q):
        flat = b.emit("exp", (b.emit("sin", (p,)),))
        nested = b.emit("tanh", (b.emit("add", (b.transpose(p, (1, 0)), b.broadcast_in_dim(q, (1027, 1031), (0,)))),))
        return [flat, nested, b.reduce(b.emit("exp", (p,)), "sum", (1,))]
    m = module_from(build, [("f32", (1031, 1027)), ("f32", (1027,))])
    check(m, [x, v], ulps=4, rtol=1e-5)
    text = emit_llvm_ir(with_naive_buffers(m))[0]
    starts = text.count("call i32 @\"pthread_create\"")
    assert starts >= 3 * 2 and starts % 2 == 0          # sin, exp, tanh at least, each on 2 more threads
    # cold compile (#18): one thread runner per worker signature, and no kernel inlined into its callers
    assert text.count('define internal ptr @"parallel_runner') < starts // 2
    kernels = [line for line in text.splitlines() if line.startswith('define internal void @"k')]
    assert kernels and all(" noinline " in line for line in kernels)


def test_big_results_are_recycled_only_when_dropped():
    m = module_from(lambda b, p: [b.emit("neg", (p,))], [("f32", (512, 600))])
    exe = compile_cpu(with_naive_buffers(m))
    x = np.ones((512, 600), np.float32)
    first = exe.run([x])[0]
    second = exe.run([x * 2])[0]
    assert first is not second and (first == -1).all() and (second == -2).all()
    view = second[::2]
    del second
    third = exe.run([x * 3])[0]
    np.testing.assert_array_equal(view, -2)              # a view keeps its base from being reused
    fourth = exe.run([x * 4])[0]
    assert (first == -1).all() and (third == -3).all() and (fourth == -4).all()
    del first
    fifth = exe.run([x * 5])[0]
    assert (fifth == -5).all() and (third == -3).all() and (fourth == -4).all()
