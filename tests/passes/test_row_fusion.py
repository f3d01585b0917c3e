"""Row fusion: IR text in, the row kernels out; and the interpreter's values kept on every row case."""
import os
import sys

import numpy as np
import pytest

from xlite.ir.parser import parse_module
from xlite.ir.verifier import verify_module
from xlite.passes.fusion import Fusion, kernel_count
from xlite.passes.layout_assignment import LayoutAssignment
from xlite.passes.pipelines import cpu_pipeline
from xlite.passes.row_fusion import RowFusion, row_shape
from xlite.semantics.eval_rules import evaluate_module

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from row_cases import ROW_CASES  # noqa: E402

SOFTMAX = """
  ENTRY e {
    %x = f32[64,100] parameter(0)
    %m = f32[64] reduce(%x), dimensions={1}, kind=max
    %mb = f32[64,100] broadcast_in_dim(%m), dimensions={0}
    %d = f32[64,100] sub(%x, %mb)
    %e = f32[64,100] exp(%d)
    %s = f32[64] reduce(%e), dimensions={1}, kind=sum
    %sb = f32[64,100] broadcast_in_dim(%s), dimensions={0}
    %y = f32[64,100] div(%e, %sb)
    ROOT %out = (f32[64,100]EXTRA_SHAPE) tuple(%yEXTRA)
  }"""


def softmax_text(fetch_max: bool = False) -> str:
    return SOFTMAX.replace("EXTRA_SHAPE", ", f32[64]" if fetch_max else "").replace("EXTRA", ", %m" if fetch_max else "")


def fuse(text: str):
    m = parse_module(text)
    LayoutAssignment().run(m)
    Fusion().run(m)
    changed = RowFusion().run(m)
    verify_module(m)
    return m, changed


def fusions(m):
    return [i for i in m.entry.instructions if i.opcode == "fusion"]


def test_softmax_becomes_one_row_kernel_computing_exp_once():
    m, changed = fuse(softmax_text())
    assert changed
    (f,) = fusions(m)
    assert f.attrs["kind"] == "row" and kernel_count(m.entry) == 1
    assert [o.opcode for o in f.operands] == ["parameter"]
    ops = [i.opcode for i in f.called[0].instructions]
    assert ops.count("reduce") == 2 and ops.count("exp") == 1
    assert row_shape(f.called[0]).rows == (64,)
    assert len([c for c in m.all_computations() if c is not m.entry]) == 1   # merged-away callees are gone


def test_a_reduction_read_elsewhere_stays_its_own_kernel():
    m, _ = fuse(softmax_text(fetch_max=True))
    assert any(i.opcode == "reduce" and i.attrs["kind"] == "max" for i in m.entry.instructions)
    (f,) = fusions(m)
    assert f.attrs["kind"] == "row"
    assert [i.attrs["kind"] for i in f.called[0].instructions if i.opcode == "reduce"] == ["sum"]


def test_reduction_over_a_major_dim_is_not_a_row():
    m, changed = fuse("""
      ENTRY e {
        %x = f32[64,100] parameter(0)
        %m = f32[100] reduce(%x), dimensions={0}, kind=max
        %mb = f32[64,100] broadcast_in_dim(%m), dimensions={1}
        ROOT %y = f32[64,100] sub(%x, %mb)
      }""")
    assert not changed and all(f.attrs["kind"] != "row" for f in fusions(m))


@pytest.mark.parametrize("body, row", [
    # a per-column gain broadcast along the rows
    ("%g = f32[5] parameter(1)\n %gb = f32[4,5] broadcast_in_dim(%g), dimensions={1}\n"
     " ROOT %y = f32[4,5] mul(%xb, %gb)", True),
    # a value a reduction feeds, read by column: another row's reduction
    ("%g = f32[5] parameter(1)\n %t = f32[5] add(%r, %g)\n %gb = f32[4,5] broadcast_in_dim(%t), dimensions={1}\n"
     " ROOT %y = f32[4,5] mul(%xb, %gb)", False),
    # a transpose reads other rows
    ("ROOT %y = f32[5,4] transpose(%xb), dimensions={1,0}", False),
])
def test_row_shape_rules(body, row):
    dims = "5" if "f32[5] add(%r" in body else "4"
    text = f"""
      ENTRY e {{
        %x = f32[4,5] parameter(0)
        %r = f32[{dims}] reduce(%x), dimensions={{1}}, kind=sum
        %xb = f32[4,5] broadcast_in_dim(%r), dimensions={{0}}
        {body}
      }}"""
    if dims == "5":
        text = text.replace("f32[4,5] parameter(0)", "f32[5,5] parameter(0)").replace("f32[4,5]", "f32[5,5]")
    assert (row_shape(parse_module(text).entry) is not None) == row


@pytest.mark.parametrize("case", ROW_CASES, ids=lambda c: c.name)
def test_row_cases_fuse_and_keep_values(case):
    m = case.build()
    args = case.args(np.random.default_rng(0))
    before = evaluate_module(m, [np.copy(a) for a in args])
    pipeline = cpu_pipeline()
    pipeline.verify = verify_module
    pipeline.run(m)
    rows = [f for f in fusions(m) if f.attrs["kind"] == "row"]
    assert len(rows) == case.fused
    for f in rows:
        assert row_shape(f.called[0]) is not None
    if case.fused:
        assert kernel_count(m.entry) == 1
    after = evaluate_module(m, [np.copy(a) for a in args])
    for a, b in zip(after, before):
        np.testing.assert_allclose(a, b, **case.tol)


def test_a_few_very_long_rows_stay_separate_kernels():
    text = softmax_text().replace("64,100", "4,100000").replace("f32[64]", "f32[4]")
    m, changed = fuse(text)
    assert not changed and kernel_count(m.entry) == 3
    m, changed = fuse(softmax_text().replace("64,100", "64,100000"))
    assert changed and kernel_count(m.entry) == 1
