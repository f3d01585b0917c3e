"""Dead-code elimination: what the root does not read goes, parameters and called computations stay."""
from xlite.ir.parser import parse_module
from xlite.ir.verifier import verify_module
from xlite.passes.dce import DeadCodeElimination


def run_dce(text: str):
    m = parse_module(text)
    verify_module(m)
    changed = DeadCodeElimination().run(m)
    verify_module(m)
    return m, changed


def names(comp) -> list[str]:
    return [i.name for i in comp.instructions]


def test_removes_unread_instructions_keeps_parameters():
    m, changed = run_dce("""
      ENTRY e {
        %p = f32[4] parameter(0)
        %unused = f32[4] parameter(1)
        %dead1 = f32[4] exp(%p)
        %dead2 = f32[4] add(%dead1, %unused)
        %n = f32[4] neg(%p)
        ROOT %r = f32[4] abs(%n)
      }""")
    assert changed
    assert names(m.entry) == ["p", "unused", "n", "r"]


def test_nothing_dead_means_unchanged():
    text = """
      ENTRY e {
        %p = f32[4] parameter(0)
        ROOT %r = f32[4] abs(%p)
      }"""
    m, changed = run_dce(text)
    assert not changed and names(m.entry) == ["p", "r"]


def test_instructions_after_the_root_are_dead():
    m, changed = run_dce("""
      ENTRY e {
        %p = f32[4] parameter(0)
        ROOT %r = f32[4] abs(%p)
        %after = f32[4] neg(%r)
      }""")
    assert changed and names(m.entry) == ["p", "r"]


def test_cleans_sub_computations_and_drops_uncalled_ones():
    m, changed = run_dce("""
      HloModule m
      %orphan {
        %x = f32[] parameter(0)
        ROOT %y = f32[] neg(%x)
      }
      %cond {
        %s = (s32[], f32[]) parameter(0)
        %i = s32[] get_tuple_element(%s), index=0
        %junk = s32[] add(%i, %i)
        %ten = s32[] constant(10)
        ROOT %lt = pred[] compare(%i, %ten), direction=LT
      }
      %body {
        %s = (s32[], f32[]) parameter(0)
        %i = s32[] get_tuple_element(%s), index=0
        %v = f32[] get_tuple_element(%s), index=1
        %one = s32[] constant(1)
        %i1 = s32[] add(%i, %one)
        ROOT %t = (s32[], f32[]) tuple(%i1, %v)
      }
      ENTRY %main {
        %p = (s32[], f32[]) parameter(0)
        ROOT %w = (s32[], f32[]) while(%p), calls={%cond,%body}
      }""")
    assert changed
    assert [c.name for c in m.all_computations()] == ["cond", "body", "main"]
    assert "junk" not in names(m.computations[0])
