"""Common-subexpression elimination: identical instructions merge; random draws and parameters never do."""
from xlite.ir.parser import parse_module
from xlite.ir.printer import print_module
from xlite.ir.verifier import verify_module
from xlite.passes.cse import CommonSubexpressionElimination
from xlite.passes.dce import DeadCodeElimination


def run_cse(text: str):
    m = parse_module(text)
    verify_module(m)
    changed = CommonSubexpressionElimination().run(m)
    verify_module(m)
    DeadCodeElimination().run(m)
    verify_module(m)
    return m, changed


def opcodes(comp) -> list[str]:
    return [i.opcode for i in comp.instructions]


def test_merges_identical_chains():
    m, changed = run_cse("""
      ENTRY e {
        %p = f32[4] parameter(0)
        %a1 = f32[4] exp(%p)
        %a2 = f32[4] exp(%p)
        %b1 = f32[4] neg(%a1)
        %b2 = f32[4] neg(%a2)
        ROOT %r = f32[4] add(%b1, %b2)
      }""")
    assert changed
    assert opcodes(m.entry) == ["parameter", "exp", "neg", "add"]
    assert m.entry.root.operands[0] is m.entry.root.operands[1]


def test_commutative_operands_in_either_order():
    m, _ = run_cse("""
      ENTRY e {
        %p = f32[4] parameter(0)
        %q = f32[4] parameter(1)
        %a = f32[4] mul(%p, %q)
        %b = f32[4] mul(%q, %p)
        %c = f32[4] sub(%p, %q)
        %d = f32[4] sub(%q, %p)
        ROOT %t = (f32[4], f32[4], f32[4], f32[4]) tuple(%a, %b, %c, %d)
      }""")
    a, b, c, d = m.entry.root.operands
    assert a is b and c is not d


def test_equal_constants_merge_by_value_and_type():
    m, _ = run_cse("""
      ENTRY e {
        %c1 = f32[2] constant({1.0, nan})
        %c2 = f32[2] constant({1.0, nan})
        %c3 = f64[2] constant({1.0, nan})
        %c4 = f32[2] constant({1.0, 2.0})
        ROOT %t = (f32[2], f32[2], f64[2], f32[2]) tuple(%c1, %c2, %c3, %c4)
      }""")
    c1, c2, c3, c4 = m.entry.root.operands
    assert c1 is c2 and len({id(c1), id(c3), id(c4)}) == 3


def test_attributes_distinguish():
    m, changed = run_cse("""
      ENTRY e {
        %p = f32[2,3] parameter(0)
        %s0 = f32[3] reduce(%p), kind=sum, dimensions={0}
        %m0 = f32[3] reduce(%p), kind=max, dimensions={0}
        %s1 = f32[2] reduce(%p), kind=sum, dimensions={1}
        ROOT %t = (f32[3], f32[3], f32[2]) tuple(%s0, %m0, %s1)
      }""")
    assert not changed


def test_never_merges_rng_or_parameters():
    text = """
      ENTRY e {
        %ctr = s64[] parameter(0)
        %p = f32[2] parameter(1)
        %r1 = f32[2] rng(%ctr), distribution=uniform, key={1,2}
        %r2 = f32[2] rng(%ctr), distribution=uniform, key={1,2}
        ROOT %t = (f32[2], f32[2]) tuple(%r1, %r2)
      }"""
    m, changed = run_cse(text)
    assert not changed and opcodes(m.entry).count("rng") == 2


def test_root_duplicate_keeps_the_root_name():
    m, _ = run_cse("""
      ENTRY e {
        %p = f32[2] parameter(0)
        %a = f32[2] exp(%p)
        %b = f32[2] exp(%p)
        ROOT %out = f32[2] exp(%p)
      }""")
    assert print_module(m).splitlines()[-2].strip() == "ROOT %out = f32[2] exp(%p)"


def test_merges_calls_to_the_same_computation():
    m, changed = run_cse("""
      %f {
        %x = f32[3] parameter(0)
        ROOT %n = f32[3] neg(%x)
      }
      ENTRY %e {
        %p = f32[3] parameter(0)
        %f1 = f32[3] fusion(%p), kind=loop, calls={%f}
        %f2 = f32[3] fusion(%p), kind=loop, calls={%f}
        ROOT %r = f32[3] add(%f1, %f2)
      }""")
    assert changed and opcodes(m.entry).count("fusion") == 1
