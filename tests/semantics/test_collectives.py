"""The collectives' shape rules and reference semantics in a world of one process (no MPI started):
all_reduce and collective_broadcast are the identity, all_gather of one part is its operand. Many
processes: tests/distribute/test_mpi_training.py."""
import numpy as np
import pytest

from xlite import errors
from xlite.ir import dtypes
from xlite.ir.builder import Builder
from xlite.ir.module import Module
from xlite.ir.parser import ParseError, parse_module
from xlite.ir.printer import print_module
from xlite.ir.shape import Shape
from xlite.ir.shape_inference import ShapeError
from xlite.ir.verifier import verify_module
from xlite.passes.constant_folding import ConstantFolding
from xlite.semantics import world as world_module
from xlite.semantics.constant_eval import try_evaluate
from xlite.semantics.eval_rules import evaluate_instruction, evaluate_module


pytestmark = pytest.mark.usefixtures("world_of_one")


def _param(b, dtype, dims):
    return b.parameter(Shape(dtypes.as_dtype(dtype), dims))


def test_world_of_one_without_a_launcher():
    w = world_module.world()
    assert (w.size, w.rank, w.local_size, w.local_rank, w.comm) == (1, 0, 1, 0, None)
    assert not world_module.launched_by_mpi()


@pytest.mark.parametrize("n", [0, 1, 7, 67])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64"])
def test_collectives_of_one_process(n, dtype):
    kinds = ["sum", "max", "min"] + (["mean"] if dtype.startswith("float") else [])
    text = "\n".join(f"  %r{k} = {{t}}[{n},3]{{{{1,0}}}} all_reduce(%p), kind={kind}" for k, kind in enumerate(kinds))
    t = dtypes.as_dtype(dtype).ir_name
    results = [f"%r{k}" for k in range(len(kinds))] + ["%g", "%b", "%d"]
    module = parse_module(f"""
    ENTRY e {{
      %p = {t}[{n},3]{{1,0}} parameter(0)
{text.format(t=t)}
      %g = {t}[{n},3]{{1,0}} all_gather(%p), replicas=1
      %b = {t}[{n},3]{{1,0}} collective_broadcast(%p), root=0
      %s = {t}[{n},3]{{1,0}} all_reduce_start(%p), kind={kinds[-1]}
      %d = {t}[{n},3]{{1,0}} all_reduce_done(%s)
      ROOT %t = ({", ".join([f"{t}[{n},3]{{1,0}}"] * len(results))}) tuple({", ".join(results)})
    }}""")
    x = (np.random.RandomState(n).standard_normal((n, 3)) * 5).astype(dtype)
    for value in evaluate_module(module, [x]):
        np.testing.assert_array_equal(value, x)
        assert value.dtype == x.dtype


def test_text_round_trips():
    text = """HloModule m

ENTRY %e {
  %p = f32[4,2]{1,0} parameter(0)
  %r = f32[4,2]{1,0} all_reduce(%p), kind=mean
  %g = f32[12,2]{1,0} all_gather(%r), replicas=3
  ROOT %b = f32[12,2]{1,0} collective_broadcast(%g), root=2
}
"""
    assert print_module(parse_module(text)) == text


def test_shape_rules():
    b = Builder()
    x = _param(b, "float32", (4, 2))
    assert b.emit("all_gather", (x,), replicas=3).shape.dims == (12, 2)
    assert b.emit("all_reduce", (x,), kind="max").shape == x.shape
    unknown = _param(b, "float32", (None, 2))
    assert b.emit("all_gather", (unknown,), replicas=2).shape.dims == (None, 2)
    i = _param(b, "int32", (3,))
    flag = _param(b, "bool", (3,))
    bad = [("all_reduce", i, {"kind": "mean"}), ("all_reduce", x, {"kind": "prod"}), ("all_reduce", flag, {"kind": "sum"}),
           ("all_gather", x, {"replicas": 0}), ("all_gather", _param(b, "float32", ()), {"replicas": 2}),
           ("collective_broadcast", x, {"root": -1})]
    for opcode, operand, attrs in bad:
        with pytest.raises(ShapeError, match=opcode.split("_")[0]):
            b.emit(opcode, (operand,), **attrs)
    start = b.emit("all_reduce_start", (x,), kind="mean")
    assert start.shape == x.shape and b.emit("all_reduce_done", (start,)).shape == x.shape
    with pytest.raises(ShapeError, match="all_reduce_start mean"):
        b.emit("all_reduce_start", (i,), kind="mean")


def test_an_in_flight_value_is_read_only_by_its_done():
    ok = """
    ENTRY e {
      %p = f32[4]{0} parameter(0)
      %s = f32[4]{0} all_reduce_start(%p), kind=sum
      ROOT %d = f32[4]{0} all_reduce_done(%s)
    }"""
    verify_module(parse_module(ok))
    for bad in (ok.replace("ROOT %d = f32[4]{0} all_reduce_done(%s)", "ROOT %d = f32[4]{0} neg(%s)"),
                ok.replace("all_reduce_done(%s)", "all_reduce_done(%p)")):
        with pytest.raises(ParseError, match="read only by an all_reduce_done"):     # the parser verifies
            parse_module(bad)


def test_collectives_are_never_evaluated_at_compile_time():
    """Constant folding would run them in one process only (a cache hit in another skips the passes)."""
    b = Builder()
    c = b.constant(np.ones((2, 2), np.float32))
    r = b.emit("all_reduce", (c,), kind="sum")
    b.computation.root = b.tuple([r])
    module = Module("m", b.computation)
    module.add_computation(b.computation)
    ConstantFolding().run(module)
    assert module.entry.root.operands[0].opcode == "all_reduce"
    assert try_evaluate(r) is None


def test_a_gather_built_for_another_world_fails_before_any_process_communicates():
    b = Builder()
    g = b.emit("all_gather", (_param(b, "float32", (2,)),), replicas=2)
    with pytest.raises(errors.FailedPreconditionError, match="built for 2 processes, but 1 run it"):
        evaluate_instruction(g, [np.zeros(2, np.float32)])
