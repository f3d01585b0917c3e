"""Liveness-based buffer assignment: reuse, in place, Variable updates, results; and the whole cpu
pipeline keeps the values of random graphs while giving a valid assignment."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import xlite as tf
from xlite.frontend.lower import lower_run
from xlite.ir import dtypes
from xlite.ir.builder import Builder
from xlite.ir.module import Computation, Module
from xlite.ir.parser import parse_module
from xlite.ir.shape import Shape
from xlite.ir.verifier import verify_module
from xlite.passes.buffer_assignment import ALIGNMENT, BufferAssignmentPass, aligned, returned_values
from xlite.passes.fusion import Fusion
from xlite.passes.layout_assignment import LayoutAssignment
from xlite.passes.pass_pipeline import PassPipeline
from xlite.passes.pipelines import cpu_pipeline, run_passes, simplification_pipeline
from xlite.semantics.eval_rules import evaluate_module

F32 = dtypes.float32


def assign(text: str, aliases=None, fuse=False):
    m = parse_module(text)
    if aliases:
        m.output_aliases = aliases
    LayoutAssignment().run(m)
    if fuse:
        Fusion().run(m)
    planner = BufferAssignmentPass()
    planner.run(m)
    verify_module(m)
    check_assignment(m, planner.assignment)
    return m, planner.assignment, {i.name: i for i in m.entry.instructions}


def _owner(ba, inst):
    while inst in ba.shares:
        inst = ba.shares[inst]
    return inst


def check_assignment(m: Module, ba) -> None:
    """Every array has a slice; arena buffers are aligned and never overlap while both are live;
    results have their own buffers; the peak is the most bytes live at once."""
    entry = m.entry
    returned = returned_values(entry)
    groups: dict = {}
    for inst in entry.instructions:
        if inst.shape.is_tuple:
            assert inst not in ba.slices
            continue
        s = ba.slices[inst]
        assert s.size == inst.shape.byte_size
        if inst in returned and s.kind == "arena":
            raise AssertionError(f"result {inst} lives in the arena")
        if s.kind == "output":
            assert s.offset == returned[inst]
        if s.kind == "arena":
            assert s.offset % ALIGNMENT == 0 and s.offset + aligned(s.size) <= ba.arena_bytes
            owner = _owner(ba, inst)
            assert ba.slices[owner].offset == s.offset
            first, last = ba.live_ranges[inst]
            g = groups.setdefault(owner, [s.offset, aligned(s.size), first, last])
            g[2], g[3] = min(g[2], first), max(g[3], last)
    items = list(groups.items())
    for i, (a, (oa, sa, fa, la)) in enumerate(items):
        for b, (ob, sb, fb, lb) in items[i + 1:]:
            if oa < ob + sb and ob < oa + sa and sa and sb:
                assert la < fb or lb < fa, f"{a} and {b} overlap in bytes and in time"
    n = len(entry.instructions)
    live = [sum(size for off, size, f, last in groups.values() if f <= p <= last) for p in range(n + 1)]
    assert ba.peak_bytes == max(live, default=0)
    outputs = [s for s in ba.slices.values() if s.kind == "output"]
    assert len({s.offset for s in outputs}) == len(outputs)


def test_dead_buffers_are_reused():
    m, ba, insts = assign("""
      ENTRY e {
        %x = f32[32,32] parameter(0)
        %w = f32[32,32] parameter(1)
        %d1 = f32[32,32] dot(%x, %w), lhs_batch_dims={}, rhs_batch_dims={}, lhs_contracting_dims={1}, rhs_contracting_dims={0}
        %d2 = f32[32,32] dot(%d1, %w), lhs_batch_dims={}, rhs_batch_dims={}, lhs_contracting_dims={1}, rhs_contracting_dims={0}
        %d3 = f32[32,32] dot(%d2, %w), lhs_batch_dims={}, rhs_batch_dims={}, lhs_contracting_dims={1}, rhs_contracting_dims={0}
        %d4 = f32[32,32] dot(%d3, %w), lhs_batch_dims={}, rhs_batch_dims={}, lhs_contracting_dims={1}, rhs_contracting_dims={0}
        ROOT %out = (f32[32,32]) tuple(%d4)
      }""")
    size = 32 * 32 * 4
    assert ba.slices[insts["d1"]].offset == ba.slices[insts["d3"]].offset
    assert ba.slices[insts["d1"]].offset != ba.slices[insts["d2"]].offset
    assert ba.arena_bytes == ba.peak_bytes == 2 * size
    assert ba.slices[insts["d4"]].kind == "output"


def test_elementwise_result_goes_in_place_over_a_dying_operand():
    m, ba, insts = assign("""
      ENTRY e {
        %x = f32[32,32] parameter(0)
        %w = f32[32,32] parameter(1)
        %d = f32[32,32] dot(%x, %w), lhs_batch_dims={}, rhs_batch_dims={}, lhs_contracting_dims={1}, rhs_contracting_dims={0}
        %e = f32[32,32] exp(%d)
        %t = f32[32,32] transpose(%e), dimensions={1,0}
        %n = f32[32,32] neg(%t)
        %c = f64[32,32] convert(%n), dtype=f64
        %s = f64[32] reduce(%c), dimensions={1}, kind=sum
        ROOT %out = (f64[32]) tuple(%s)
      }""")
    assert ba.shares[insts["e"]] is insts["d"]
    assert ba.slices[insts["e"]].offset == ba.slices[insts["d"]].offset
    assert insts["t"].opcode == "bitcast" and ba.shares[insts["t"]] is insts["e"]   # the same bytes
    assert insts["n"] not in ba.shares          # reads e's bytes in another order
    assert insts["c"] not in ba.shares          # a different element size
    assert ba.peak_bytes < 3 * 32 * 32 * 4 + 32 * 32 * 8


def test_no_in_place_over_an_operand_read_later():
    m, ba, insts = assign("""
      ENTRY e {
        %x = f32[32,32] parameter(0)
        %w = f32[32,32] parameter(1)
        %d = f32[32,32] dot(%x, %w), lhs_batch_dims={}, rhs_batch_dims={}, lhs_contracting_dims={1}, rhs_contracting_dims={0}
        %e = f32[32,32] exp(%d)
        %f = f32[32,32] add(%e, %d)
        ROOT %out = (f32[32,32], f32[32,32]) tuple(%f, %d)
      }""")
    assert insts["e"] not in ba.shares
    assert ba.slices[insts["d"]].kind == "output" and ba.slices[insts["f"]].kind == "output"


def test_loop_fusion_goes_in_place_only_when_it_reads_the_operand_at_its_own_index():
    text = """
      %same {
        %a = f32[16,16] parameter(0)
        %b = f32[16,16] parameter(1)
        %m = f32[16,16] mul(%a, %b)
        ROOT %t = f32[16,16] tanh(%m)
      }
      %moved {
        %a = f32[16,16] parameter(0)
        %b = f32[16,16] parameter(1)
        %ta = f32[16,16] transpose(%a), dimensions={1,0}
        ROOT %m = f32[16,16] mul(%ta, %b)
      }
      ENTRY e {
        %x = f32[16,16] parameter(0)
        %w = f32[16,16] parameter(1)
        %d = f32[16,16] dot(%x, %w), lhs_batch_dims={}, rhs_batch_dims={}, lhs_contracting_dims={1}, rhs_contracting_dims={0}
        %f = f32[16,16] fusion(%d, %x), kind=loop, calls={%same}
        %g = f32[16,16] fusion(%f, %x), kind=loop, calls={%moved}
        %s = f32[16] reduce(%g), dimensions={0}, kind=sum
        ROOT %out = (f32[16]) tuple(%s)
      }"""
    m, ba, insts = assign(text)
    assert ba.shares[insts["f"]] is insts["d"]
    assert insts["g"] not in ba.shares


DUS_ENTRY = """
  ENTRY e {
    %x = f32[8,4] parameter(0)
    %u = f32[1,4] parameter(1)
    %i = s32[] parameter(2)
    %z = s32[] constant(0)
    %a = f32[8,4] exp(%x)
    %d = f32[8,4] dynamic_update_slice(%a, %u, %i, %z)
    %n = f32[8,4] neg(%d)
    ROOT %out = (f32[8,4]KEEP) tuple(%nKEEPA)
  }"""


def test_dynamic_update_slice_goes_in_place_over_a_dying_operand():
    m, ba, insts = assign(DUS_ENTRY.replace("KEEPA", "").replace("KEEP", ""))
    assert ba.shares[insts["d"]] is insts["a"]       # codegen then writes only the window


def test_dynamic_update_slice_keeps_an_operand_still_read():
    m, ba, insts = assign(DUS_ENTRY.replace("KEEPA", ", %a").replace("KEEP", ", f32[8,4]"))
    assert insts["d"] not in ba.shares


def test_results_never_share_and_tuples_have_no_buffers():
    m, ba, insts = assign("""
      ENTRY e {
        %x = f32[8] parameter(0)
        %a = f32[8] exp(%x)
        %b = f32[8] neg(%a)
        ROOT %out = (f32[8], f32[8], f32[8], f32[8]) tuple(%a, %b, %a, %x)
      }""")
    assert ba.slices[insts["a"]] .kind == "output" and ba.slices[insts["a"]].offset == 0
    assert ba.slices[insts["b"]].offset == 1
    assert ba.slices[insts["x"]].kind == "parameter"
    assert insts["out"] not in ba.slices
    assert ba.arena_bytes == 0


def test_while_results_live_in_their_get_tuple_elements_from_the_loop_on():
    m, ba, insts = assign("""
      %cond {
        %s = (s32[], f32[64]) parameter(0)
        %i = s32[] get_tuple_element(%s), index=0
        %lim = s32[] constant(3)
        ROOT %lt = pred[] compare(%i, %lim), direction=LT
      }
      %body {
        %s = (s32[], f32[64]) parameter(0)
        %i = s32[] get_tuple_element(%s), index=0
        %v = f32[64] get_tuple_element(%s), index=1
        %one = s32[] constant(1)
        %i1 = s32[] add(%i, %one)
        %v1 = f32[64] tanh(%v)
        ROOT %t = (s32[], f32[64]) tuple(%i1, %v1)
      }
      ENTRY %main {
        %p = f32[64] parameter(0)
        %q = f32[64] exp(%p)
        %zero = s32[] constant(0)
        %init = (s32[], f32[64]) tuple(%zero, %q)
        %w = (s32[], f32[64]) while(%init), calls={%cond,%body}
        %k = s32[] get_tuple_element(%w), index=0
        %r = f32[64] get_tuple_element(%w), index=1
        %n = f32[64] neg(%r)
        ROOT %out = (f32[64], s32[]) tuple(%n, %k)
      }""")
    pos = {i: k for k, i in enumerate(m.entry.instructions)}
    assert ba.live_ranges[insts["r"]][0] == pos[insts["w"]]
    assert ba.live_ranges[insts["q"]][1] == pos[insts["w"]]
    assert ba.slices[insts["q"]].offset != ba.slices[insts["r"]].offset
    assert insts["w"] not in ba.slices and insts["init"] not in ba.slices
    assert ba.slices[insts["k"]].kind == "output"


def test_variable_update_goes_in_place():
    m, ba, insts = assign("""
      ENTRY e {
        %g = f32[16,16] parameter(0)
        %w = f32[16,16] parameter(1)
        %lr = f32[] constant(0.1)
        %lrb = f32[16,16] broadcast_in_dim(%lr), dimensions={}
        %step = f32[16,16] mul(%g, %lrb)
        %new = f32[16,16] sub(%w, %step)
        ROOT %out = (f32[16,16]) tuple(%new)
      }""", aliases={0: 1})
    assert ba.slices[insts["new"]].kind == "parameter" and ba.slices[insts["new"]].offset == 1
    assert all(i.opcode != "copy" for i in m.entry.instructions)


def test_variable_update_copies_when_the_old_value_is_read_after_it():
    text = """
      ENTRY e {
        %w = f32[8,8] parameter(0)
        %two = f32[] constant(2)
        %twob = f32[8,8] broadcast_in_dim(%two), dimensions={}
        %new = f32[8,8] mul(%w, %twob)
        %y = f32[8,8] dot(%w, %new), lhs_batch_dims={}, rhs_batch_dims={}, lhs_contracting_dims={1}, rhs_contracting_dims={0}
        ROOT %out = (f32[8,8], f32[8,8]) tuple(%y, %new)
      }"""
    args = [np.random.default_rng(0).standard_normal((8, 8)).astype(np.float32)]
    before = evaluate_module(parse_module(text), args)
    m, ba, insts = assign(text, aliases={1: 0})
    copy = m.entry.root.operands[1]
    assert copy.opcode == "copy" and ba.slices[copy].kind == "parameter"
    pos = {i: k for k, i in enumerate(m.entry.instructions)}
    assert pos[copy] > pos[insts["y"]]
    for a, b in zip(evaluate_module(m, args), before):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_variable_update_reading_the_old_value_elsewhere_copies():
    text = """
      ENTRY e {
        %w = f32[8,8] parameter(0)
        %t = f32[8,8] transpose(%w), dimensions={1,0}
        %new = f32[8,8] add(%w, %t)
        ROOT %out = (f32[8,8]) tuple(%new)
      }"""
    # fused, the update reads w at the transposed index too: it cannot write over w
    m, ba, insts = assign(text, aliases={0: 0}, fuse=True)
    assert m.entry.root.operands[0].opcode == "copy"
    # unfused, the transpose (a bitcast of w) is copied out first, so the add may write over w
    m, ba, insts = assign(text, aliases={0: 0})
    assert ba.slices[insts["t"]].kind == "arena"
    assert ba.slices[insts["new"]] .kind == "parameter"


# the W3 training step of BENCHMARKS.md ---------------------------------------------------------
def w3_module():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [128, 784])
        labels = tf.placeholder(tf.float32, [128, 10])
        h = x
        for i, (n_in, n_out) in enumerate([(784, 256), (256, 256), (256, 10)]):
            w = tf.Variable(tf.random_normal([n_in, n_out], stddev=0.05, seed=i))
            b = tf.Variable(tf.zeros([n_out]))
            h = tf.matmul(h, w) + b
            if i < 2:
                h = tf.nn.relu(h)
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=h))
        train = tf.train.GradientDescentOptimizer(0.01).minimize(loss)
    return lower_run(g, [loss], [train], {x: (128, 784), labels: (128, 10)}).module


def test_w3_updates_variables_in_place_and_reuses_temporaries():
    m = w3_module()
    PassPipeline([simplification_pipeline()]).run(m)
    intermediates = sum(i.shape.byte_size for i in m.entry.instructions
                        if not i.shape.is_tuple and i.opcode not in ("parameter", "constant"))
    rng = np.random.default_rng(0)
    args = [rng.standard_normal(p.shape.dims).astype(np.float32) * 0.1 for p in m.entry.parameters]
    before = evaluate_module(m, args)
    pipeline = cpu_pipeline()
    pipeline.verify = verify_module
    ba = run_passes(pipeline, m)
    check_assignment(m, ba)
    for comp in m.computations:
        assert all(i.opcode != "copy" for i in comp.instructions)
    for out_index, number in m.output_aliases.items():
        s = ba.slices[m.entry.root.operands[out_index]]
        assert (s.kind, s.offset) == ("parameter", number)
    assert ba.peak_bytes < intermediates / 2
    for a, b in zip(evaluate_module(m, args), before):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


# random graphs ------------------------------------------------------------------------------
_UNARY = ["neg", "exp", "tanh", "logistic", "abs", "sqrt_abs", "log_abs"]
_BINARY = ["add", "sub", "mul", "max", "min", "div_safe"]


class Graph:
    def __init__(self, draw, rng):
        self.draw, self.rng = draw, rng
        self.b = Builder(Computation("main"))
        self.pool, self.args, self.params = [], [], []

    def param(self, dims):
        p = self.b.parameter(Shape(F32, dims))
        self.params.append(p)
        self.args.append(self.rng.standard_normal(dims).astype(np.float32))
        self.pool.append(p)
        return p

    def pick(self, dims=None):
        cands = [v for v in self.pool if dims is None or v.shape.dims == dims]
        if not cands:
            return self.param(dims)
        return self.draw(st.sampled_from(cands))

    def step(self):
        b, draw = self.b, self.draw
        op = draw(st.sampled_from(["unary", "binary", "binary", "broadcast", "reduce", "dot", "transpose",
                                   "reshape", "slice", "concat", "pad", "reverse", "select", "iota", "rng"]))
        x = self.pick()
        dims = x.shape.dims
        if op == "unary":
            u = draw(st.sampled_from(_UNARY))
            if u.endswith("_abs"):
                v = b.emit(u[:-4], (b.emit("abs", (x,)),))
            else:
                v = b.emit(u, (x,))
        elif op == "binary":
            y = self.pick(dims)
            u = draw(st.sampled_from(_BINARY))
            if u == "div_safe":
                one = b.broadcast_in_dim(b.scalar(1.5, F32), dims, ())
                v = b.emit("div", (x, b.emit("add", (b.emit("abs", (y,)), one))))
            else:
                v = b.emit(u, (x, y))
        elif op == "broadcast":
            at = draw(st.integers(0, len(dims)))
            new = dims[:at] + (draw(st.integers(1, 4)),) + dims[at:]
            v = b.broadcast_in_dim(x, new, [d if d < at else d + 1 for d in range(len(dims))])
        elif op == "reduce" and dims:
            v = b.reduce(x, draw(st.sampled_from(["sum", "max"])), {draw(st.integers(0, len(dims) - 1))})
        elif op == "dot" and len(dims) == 2:
            w = self.pick((dims[1], draw(st.sampled_from([dims[0], 3]))))
            v = b.emit("dot", (x, w), lhs_batch_dims=(), rhs_batch_dims=(), lhs_contracting_dims=(1,),
                       rhs_contracting_dims=(0,))
        elif op == "transpose" and len(dims) >= 2:
            v = b.transpose(x, draw(st.permutations(range(len(dims)))))
        elif op == "reshape":
            v = b.emit("reshape", (x,), Shape(F32, (int(np.prod(dims, dtype=np.int64)),)))
        elif op == "slice" and dims:
            v = b.emit("slice", (x,), start_indices=tuple(min(1, d - 1) for d in dims), limit_indices=dims,
                       strides=tuple(draw(st.integers(1, 2)) for _ in dims))
        elif op == "concat" and dims:
            v = b.emit("concatenate", (x, self.pick(dims)), dimension=draw(st.integers(0, len(dims) - 1)))
        elif op == "pad" and dims:
            v = b.emit("pad", (x, b.scalar(0.5, F32)), low=(1,) * len(dims), high=(0,) * len(dims),
                       interior=(draw(st.integers(0, 1)),) * len(dims))
        elif op == "reverse" and dims:
            v = b.emit("reverse", (x,), dimensions=(0,))
        elif op == "select":
            y = self.pick(dims)
            v = b.emit("select", (b.compare(x, y, "LT"), x, y))
        elif op == "iota" and dims:
            v = b.emit("add", (x, b.iota(F32, dims, draw(st.integers(0, len(dims) - 1)))))
        elif op == "rng" and dims:
            counter = next((p for p in self.params if p.shape.dtype == dtypes.int64), None)
            if counter is None:
                counter = self.b.parameter(Shape(dtypes.int64, ()))
                self.params.append(counter)
                self.args.append(np.int64(5))
            r = b.emit("rng", (counter,), Shape(F32, dims), distribution="uniform", key=(1, 2))
            v = b.emit("mul", (x, r))
        else:
            v = b.emit("neg", (x,))
        if v.shape.num_elements <= 4096:
            self.pool.append(v)

    def module(self):
        outputs = [self.pool[-1]] + self.draw(st.lists(st.sampled_from(self.pool), max_size=2))
        aliases = {}
        for p in self.params:      # some parameters updated with a value of their shape
            same = [v for v in self.pool if v.shape.dims == p.shape.dims and v.dtype == p.dtype]
            if same and self.draw(st.booleans()):
                aliases[len(outputs)] = p.attrs["number"]
                outputs.append(self.draw(st.sampled_from(same)))
        self.b.tuple(outputs)
        comp = self.b.computation
        comp.root = comp.instructions[-1]
        m = Module("random", comp)
        m.add_computation(comp)
        m.output_aliases = aliases
        return m


@settings(max_examples=60, deadline=None)
@given(st.data(), st.integers(0, 2 ** 32 - 1))
@pytest.mark.slow
def test_random_graphs_keep_their_values_through_the_cpu_pipeline(data, seed):
    g = Graph(data.draw, np.random.default_rng(seed))
    g.param(tuple(data.draw(st.lists(st.integers(1, 5), min_size=1, max_size=3))))
    for _ in range(data.draw(st.integers(1, 12))):
        g.step()
    m = g.module()
    verify_module(m)
    before = evaluate_module(m, g.args)
    pipeline = cpu_pipeline()
    pipeline.verify = verify_module
    ba = run_passes(pipeline, m)
    verify_module(m)
    check_assignment(m, ba)
    after = evaluate_module(m, g.args)
    for a, b in zip(after, before):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5, equal_nan=True)
