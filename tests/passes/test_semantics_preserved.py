"""The whole simplification pipeline preserves semantics: the interpreter agrees before and after.

Random graphs chain elementwise, broadcast, reduce, dot, transpose, reshape, slice and
concatenate ops over parameters and constants (zeros, ones, splats, large broadcasts),
which is where the identities and folds of the pipeline fire.
"""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from xlite.ir import dtypes
from xlite.ir.builder import Builder
from xlite.ir.module import Computation, Instruction, Module
from xlite.ir.parser import parse_module
from xlite.ir.printer import print_module
from xlite.ir.shape import Shape
from xlite.ir.verifier import verify_module
from xlite.passes.constant_folding import FOLD_LIMIT
from xlite.passes.pass_pipeline import PassPipeline
from xlite.passes.pipelines import simplification_pipeline
from xlite.semantics.eval_rules import evaluate_module

F32, S32 = dtypes.float32, dtypes.int32


def run_pipeline(module: Module) -> list:
    """The pipeline with the verifier after every pass; returns the printed module after each."""
    dumps = []
    PassPipeline([simplification_pipeline()], verify=verify_module,
                 dump=lambda name, m: dumps.append(print_module(m))).run(module)
    return dumps


def assert_same_results(before, after):
    before = before if isinstance(before, tuple) else (before,)
    after = after if isinstance(after, tuple) else (after,)
    assert len(before) == len(after)
    for b, a in zip(before, after):
        assert a.dtype == b.dtype and a.shape == b.shape
        if b.dtype.kind == "f":
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4, equal_nan=True)
        else:
            np.testing.assert_array_equal(a, b)


class GraphMaker:
    """Draws one random op at a time onto a pool of values, through the Builder."""

    def __init__(self, data, rng: np.random.Generator):
        self.draw, self.rng = data.draw, rng
        self.b = Builder(Computation("main"))
        self.pool: list[Instruction] = []
        self.args: list[np.ndarray] = []

    def dims(self, rank=None) -> tuple:
        rank = self.draw(st.integers(0, 3)) if rank is None else rank
        return tuple(self.draw(st.integers(1, 4)) for _ in range(rank))

    def leaf(self, dims: tuple, dtype=F32) -> Instruction:
        kind = self.draw(st.sampled_from(["parameter", "parameter", "constant", "splat", "scalar_broadcast"]))
        if kind == "parameter":
            value = self.rng.standard_normal(dims).astype(dtype.np) if dtype is F32 else \
                self.rng.integers(-5, 6, dims).astype(dtype.np)
            self.args.append(np.asarray(value))
            return self.b.parameter(Shape(dtype, dims))
        if kind == "constant":
            return self.b.constant(self.rng.integers(-3, 4, dims).astype(dtype.np))
        value = self.draw(st.sampled_from([0, 1, 2, -1]))
        if kind == "splat":
            return self.b.constant(np.full(dims, value, dtype.np))
        return self.b.broadcast_in_dim(self.b.scalar(value, dtype), dims, ())

    def pick(self, dtype=F32) -> Instruction:
        candidates = [v for v in self.pool if v.dtype == dtype]
        if not candidates or self.draw(st.integers(0, 5)) == 0:
            v = self.leaf(self.dims(), dtype)
            self.pool.append(v)
            return v
        return self.draw(st.sampled_from(candidates))

    def partner(self, x: Instruction) -> Instruction:
        """A value with x's dims and dtype: x itself, another pool value, or a fresh leaf."""
        same = [v for v in self.pool if v.shape.dims == x.shape.dims and v.dtype == x.dtype]
        choice = self.draw(st.integers(0, 2))
        if choice == 0 and same:
            return self.draw(st.sampled_from(same))
        return x if choice == 1 else self.leaf(x.shape.dims, x.dtype)

    def step(self) -> None:
        b = self.b
        op = self.draw(st.sampled_from(["unary", "binary", "binary", "broadcast", "big_broadcast", "reduce",
                                        "dot", "transpose", "reshape", "slice", "concatenate", "convert",
                                        "select", "int_compare"]))
        x = self.pick()
        if op == "unary":
            v = b.emit(self.draw(st.sampled_from(["neg", "abs", "tanh", "exp", "neg"])), (x,))
        elif op == "binary":
            v = b.emit(self.draw(st.sampled_from(["add", "sub", "mul", "div", "max", "add", "mul"])),
                       (x, self.partner(x)) if self.draw(st.booleans()) else (self.partner(x), x))
        elif op in ("broadcast", "big_broadcast"):
            at = self.draw(st.integers(0, x.shape.rank))
            size = 1100 if op == "big_broadcast" else self.draw(st.integers(1, 3))
            dims = x.shape.dims[:at] + (size,) + x.shape.dims[at:]
            v = b.broadcast_in_dim(x, dims, [d if d < at else d + 1 for d in range(x.shape.rank)])
        elif op == "reduce":
            axes = self.draw(st.sets(st.integers(0, max(x.shape.rank - 1, 0)))) if x.shape.rank else set()
            v = b.reduce(x, self.draw(st.sampled_from(["sum", "max", "min"])), axes)
        elif op == "dot":
            v = self.dot(x)
        elif op == "transpose":
            v = b.transpose(x, self.draw(st.permutations(range(x.shape.rank))))
        elif op == "reshape":
            v = self.reshape(x)
        elif op == "slice":
            starts = [self.draw(st.integers(0, d - 1)) for d in x.shape.dims]
            limits = [self.draw(st.integers(s + 1, d)) for s, d in zip(starts, x.shape.dims)]
            strides = [self.draw(st.integers(1, 2)) for _ in x.shape.dims]
            v = b.emit("slice", (x,), start_indices=tuple(starts), limit_indices=tuple(limits),
                       strides=tuple(strides))
        elif op == "concatenate" and x.shape.rank:
            v = b.emit("concatenate", (x, self.partner(x)), dimension=self.draw(st.integers(0, x.shape.rank - 1)))
        elif op == "convert":
            v = b.emit("convert", (b.emit("convert", (x,), dtype=S32),), dtype=F32)
        elif op == "select":
            y = self.partner(x)
            v = b.emit("select", (b.compare(x, y, self.draw(st.sampled_from(["LT", "EQ", "GE"]))), x, y))
        else:
            i = b.emit("convert", (x,), dtype=S32)
            c = b.compare(i, i if self.draw(st.booleans()) else self.partner(i), "LE")
            v = b.emit("convert", (c,), dtype=F32)
        if v.shape.num_elements <= 4 * FOLD_LIMIT + 512:
            self.pool.append(v)

    def dot(self, x: Instruction) -> Instruction:
        """x against its own transpose, or a batched dot with a transposed operand."""
        b = self.b
        if x.shape.rank == 1:
            return b.emit("dot", (x, self.partner(x)), lhs_batch_dims=(), rhs_batch_dims=(),
                          lhs_contracting_dims=(0,), rhs_contracting_dims=(0,))
        if x.shape.rank == 2:
            xt = b.transpose(x, (1, 0))
            lhs, rhs = (xt, x) if self.draw(st.booleans()) else (x, xt)
            return b.emit("dot", (lhs, rhs), lhs_batch_dims=(), rhs_batch_dims=(),
                          lhs_contracting_dims=(1,), rhs_contracting_dims=(0,))
        if x.shape.rank == 3:
            xt = b.transpose(x, (0, 2, 1))
            return b.emit("dot", (x, xt), lhs_batch_dims=(0,), rhs_batch_dims=(0,),
                          lhs_contracting_dims=(2,), rhs_contracting_dims=(1,))
        return b.emit("neg", (x,))

    def reshape(self, x: Instruction) -> Instruction:
        dims = x.shape.dims
        choice = self.draw(st.integers(0, 2))
        if choice == 0:
            new = (int(np.prod(dims, dtype=np.int64)),)
        elif choice == 1:
            at = self.draw(st.integers(0, len(dims)))
            new = dims[:at] + (1,) + dims[at:]
        else:
            new = tuple(d for d in dims if d != 1)
        return self.b.emit("reshape", (x,), Shape(x.dtype, new))

    def module(self) -> Module:
        outputs = [self.pool[-1]] + self.draw(st.lists(st.sampled_from(self.pool), max_size=2))
        self.b.tuple(outputs)
        comp = self.b.computation
        comp.root = comp.instructions[-1]
        m = Module("random", comp)
        m.add_computation(comp)
        return m


@settings(max_examples=60, deadline=None)
@given(st.data(), st.integers(0, 2 ** 32 - 1))
def test_random_graphs_keep_their_values(data, seed):
    maker = GraphMaker(data, np.random.default_rng(seed))
    for _ in range(data.draw(st.integers(1, 10))):
        maker.step()
    module = maker.module()
    verify_module(module)
    text = print_module(module)
    assert print_module(parse_module(text)) == text
    before = evaluate_module(module, maker.args)
    largest_input = max([i.literal.size for i in module.entry.instructions if i.opcode == "constant"], default=0)
    dumps = run_pipeline(module)
    assert_same_results(before, evaluate_module(module, maker.args))
    for i in module.entry.instructions:
        if i.opcode == "constant":
            assert i.literal.size <= max(FOLD_LIMIT, largest_input)
    for dump in dumps:
        assert print_module(parse_module(dump)) == dump
    assert not simplification_pipeline().run(module), "the pipeline must reach a fixed point"


LOOP = """
  HloModule loop
  %cond {
    %s = (s32[], f32[3]) parameter(0)
    %i = s32[] get_tuple_element(%s), index=0
    %lim = s32[] constant(4)
    %lim2 = s32[] add(%lim, %lim)
    ROOT %lt = pred[] compare(%i, %lim2), direction=LT
  }
  %body {
    %s = (s32[], f32[3]) parameter(0)
    %i = s32[] get_tuple_element(%s), index=0
    %v = f32[3] get_tuple_element(%s), index=1
    %one = s32[] constant(1)
    %i1 = s32[] add(%i, %one)
    %h = f32[] constant(0.5)
    %hh = f32[3] broadcast_in_dim(%h), dimensions={}
    %z = f32[3] constant({0, 0, 0})
    %v0 = f32[3] add(%v, %z)
    %v1 = f32[3] mul(%v0, %hh)
    %v2 = f32[3] mul(%v0, %hh)
    %v3 = f32[3] add(%v1, %v2)
    ROOT %t = (s32[], f32[3]) tuple(%i1, %v3)
  }
  %on_true {
    %x = f32[3] parameter(0)
    %n = f32[3] neg(%x)
    ROOT %nn = f32[3] neg(%n)
  }
  %on_false {
    %x = f32[3] parameter(0)
    ROOT %e = f32[3] exp(%x)
  }
  ENTRY %main {
    %p = f32[3] parameter(0)
    %flag = pred[] parameter(1)
    %zero = s32[] constant(0)
    %init = (s32[], f32[3]) tuple(%zero, %p)
    %w = (s32[], f32[3]) while(%init), calls={%cond,%body}
    %r = f32[3] get_tuple_element(%w), index=1
    ROOT %c = f32[3] conditional(%flag, %r, %r), calls={%on_true,%on_false}
  }
"""


def test_loops_and_conditionals_keep_their_values():
    for flag in (True, False):
        m = parse_module(LOOP)
        args = [np.array([1.0, -2.0, 3.5], np.float32), np.array(flag)]
        before = evaluate_module(m, args)
        run_pipeline(m)
        assert_same_results(before, evaluate_module(m, args))
    body = next(c for c in m.computations if c.name == "body")
    assert sum(i.opcode == "mul" for i in body.instructions) == 1
    assert next(c for c in m.computations if c.name == "on_true").root.opcode == "parameter"


def _model_graph(tf):
    x = tf.placeholder(tf.float32, [None, 4], name="x")
    y = tf.placeholder(tf.float32, [None, 3], name="y")
    w = tf.Variable(np.ones((4, 3), np.float32), name="w")
    b = tf.Variable(np.zeros((3,), np.float32), name="b")
    p = tf.nn.softmax(tf.matmul(x, w) + b)
    loss = tf.reduce_mean(tf.reduce_sum(tf.square(p - y), axis=1))
    gw, gb = tf.gradients(loss, [w, b])
    update = tf.assign(w, w - 0.1 * gw)
    return [loss, gb, tf.random_normal([2, 3])], [update.op], {x: (5, 4), y: (5, 3)}


def _identities_graph(tf):
    x = tf.placeholder(tf.float32, [3, 4], name="x")
    t = x * tf.ones_like(x) + tf.zeros_like(x) - 0.0
    s = tf.reduce_sum(t, axis=0, keepdims=True) - tf.reduce_max(t / 1.0)
    k = tf.constant(np.arange(6, dtype=np.float32).reshape(2, 3)) * 2.0 + 1.0
    return [s, tf.matmul(k, k, transpose_b=True), tf.matmul(t, x, transpose_a=True)], [], {x: (3, 4)}


def _random_args(module: Module, rng: np.random.Generator) -> list:
    args = []
    for p in module.entry.parameters:
        dt = p.shape.dtype.np
        args.append(rng.standard_normal(p.shape.dims).astype(dt) if dt.kind == "f"
                    else rng.integers(0, 5, p.shape.dims).astype(dt))
    return args


def _lower(make):
    import xlite as tf
    from xlite.frontend.lower import lower_run
    graph = tf.Graph()
    with graph.as_default():
        fetches, targets, feeds = make(tf)
        return lower_run(graph, fetches, targets, feeds).module


def test_frontend_graphs_keep_their_values():
    for make in (_model_graph, _identities_graph):
        module = _lower(make)
        text = print_module(module)
        assert print_module(parse_module(text)) == text
        args = _random_args(module, np.random.default_rng(0))
        before = evaluate_module(module, args)
        count = len(module.entry.instructions)
        run_pipeline(module)
        assert len(module.entry.instructions) < count
        assert_same_results(before, evaluate_module(module, args))


def test_frontend_zeros_plus_x_stays_lazy():
    def make(tf):
        x = tf.placeholder(tf.float32, [4096, 4096], name="x")
        return [tf.zeros_like(x) + x], [], {x: (4096, 4096)}
    module = _lower(make)
    run_pipeline(module)
    assert all(i.literal.size <= FOLD_LIMIT for i in module.entry.instructions if i.opcode == "constant")
    assert module.entry.root.operands[0].opcode == "parameter"
