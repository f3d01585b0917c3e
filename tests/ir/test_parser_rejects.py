"""Bad IR text is a ParseError naming its line, never another exception: the parser verifies what it reads."""
import random

import pytest

from xlite.ir.parser import ParseError, parse_file, parse_module
from xlite.ir.printer import print_module
from tiers import slow_at

VALID = """HloModule fuzz
%body {
  %s = (s32[], f32[4]) parameter(0)
  %i = s32[] get_tuple_element(%s), index=0
  %one = s32[] constant(1)
  %j = s32[] add(%i, %one)
  %v = f32[4] get_tuple_element(%s), index=1
  %w = f32[4] exp(%v)
  ROOT %t = (s32[], f32[4]) tuple(%j, %w)
}
%cond {
  %s = (s32[], f32[4]) parameter(0)
  %i = s32[] get_tuple_element(%s), index=0
  %n = s32[] constant(3)
  ROOT %lt = pred[] compare(%i, %n), direction=LT
}
ENTRY %main {
  %x = f32[4,3]{1,0} parameter(0)
  %c = f32[3] constant({1.5, -2, 0.25}), metadata={op_name="c" source_file="a.py" source_line=3}
  %cb = f32[4,3] broadcast_in_dim(%c), dimensions={1}
  %m = f32[4,3] mul(%x, %cb)
  %t = f32[3,4] transpose(%m), dimensions={1,0}
  %r = f32[4] reduce(%t), dimensions={0}, kind=sum
  %z = s32[] constant(0)
  %init = (s32[], f32[4]) tuple(%z, %r)
  %loop = (s32[], f32[4]) while(%init), calls={%cond, %body}
  %out = f32[4] get_tuple_element(%loop), index=1
  %sl = f32[2] slice(%out), start_indices={1}, limit_indices={3}, strides={1}
  ROOT %res = (f32[2], f32[4,3]) tuple(%sl, %m)
}
"""

DEEP = 100_000


def _entry(*lines: str) -> str:
    return "ENTRY e {\n" + "\n".join(lines) + "\n}\n"


BAD = [
    (_entry("%a = f32[4] parameter(0)", "%b = f32[5] parameter(1)", "ROOT %c = f32[4] add(%a, %b)"),
     4, "dimension 4 does not match 5"),
    (_entry("%a = f32[4] parameter(0)", "%b = s32[4] parameter(1)", "ROOT %c = f32[4] add(%a, %b)"),
     4, "dtypes differ"),
    (_entry("%a = f32[4,3] parameter(0)", "ROOT %r = f32[4] reduce(%a), dimensions={2}, kind=sum"),
     3, "out of range"),
    (_entry("%a = f32[4,3] parameter(0)", "ROOT %t = f32[3,4] transpose(%a), dimensions={1,5}"),
     3, "out of range"),
    (_entry("%a = f32[4] parameter(0)", "ROOT %r = f32[5] exp(%a)"), 3, "differs from the inferred"),
    (_entry("%a = f32[4] parameter(1)"), 1, "parameter numbers"),
    (_entry("%a = f32[-2] parameter(0)"), 2, "negative"),
    (_entry("%a = f32[2,3]{0,5} parameter(0)"), 2, "not a permutation"),
    (_entry("%a = f32[3] constant({1, 2})"), 2, "does not fit"),
    (_entry("%a = s32[] constant(1e400)"), 2, "does not fit"),
    (_entry("%a = f32[" + "9" * 6000 + "] parameter(0)"), 2, "too many digits"),
    (_entry("%a = f32[] parameter(0), metadata={source_line=x}"), 2, "source_line"),
    (_entry("%a = f32[] parameter(0), metadata={op_name=)}"), 2, "bad value"),
    (_entry("%a = 032[] parameter(0)"), 2, "unknown element type"),
    (_entry("%a = " + "(" * DEEP + "f32[]" + ")" * DEEP + " parameter(0)"), 2, "nested"),
    (_entry("%a = f32[] constant(" + "{" * DEEP + "1" + "}" * DEEP + ")"), 2, "nested"),
    (_entry("%a = f32[] parameter(0), x=" + "{" * DEEP + "}" * DEEP), 2, "nested"),
    ("", 1, "no computations"),
]


@pytest.mark.parametrize(*slow_at("text, line, message", BAD, 14, 15, 16), ids=[f"{i}-{case[2]}" for i, case in enumerate(BAD)])
def test_bad_ir_is_a_parse_error_at_its_line(text, line, message):
    with pytest.raises(ParseError, match=message) as info:
        parse_module(text)
    assert info.value.line == line and str(info.value).startswith(f"line {line}: ")


@pytest.mark.slow
def test_a_deep_chain_of_calls_is_checked_without_recursion():
    comps = ["%c0 {\n  %p = f32[] parameter(0)\n  ROOT %n = f32[] neg(%p)\n}"]
    for i in range(1, 1500):
        comps.append(f"%c{i} {{\n  %p = f32[] parameter(0)\n  ROOT %f = f32[] fusion(%p), calls={{%c{i - 1}}}\n}}")
    text = "\n".join(comps) + "\nENTRY e {\n  %p = f32[] parameter(0)\n  ROOT %f = f32[] fusion(%p), calls={%c1499}\n}"
    module = parse_module(text)
    assert print_module(parse_module(print_module(module))) == print_module(module)


def test_bad_utf8_names_its_line(tmp_path):
    path = tmp_path / "bad.ir"
    path.write_bytes(b"ENTRY e {\n  %a = f32[] parameter(0)\n  // \xff\xfe\n}\n")
    with pytest.raises(ParseError, match="invalid UTF-8") as info:
        parse_file(str(path))
    assert info.value.line == 3


def _mutations(rng: random.Random, count: int):
    pieces = ["(", ")", "{", "}", "[", "]", ",", "=", "%x", "%s", "f32", "s32", "pred", "?", "-1", "0", "7",
              "99999999999999999999", "add", "reduce", "tuple", "while", "fusion", "constant", "parameter",
              "dimensions={5}", "calls={%main}", "kind=sum", "ROOT", "ENTRY", "\n", " ", '"', "nan", "1e400",
              "{1,0}", "{0,1,2}", 'metadata={op_name="a"}', "broadcast_in_dim", "\x00", "\u00e9", "index=9"]
    for _ in range(count):
        kind = rng.random()
        if kind < 0.1:
            yield bytes(rng.randrange(256) for _ in range(rng.randrange(200))).decode("latin-1")
        elif kind < 0.3:
            yield VALID[:rng.randrange(len(VALID))]
        else:
            text = VALID
            for _ in range(rng.randrange(1, 4)):
                i = rng.randrange(len(text))
                j = min(len(text), i + rng.randrange(6))
                op = rng.random()
                text = text[:i] + ("" if op < 0.3 else rng.choice(pieces)) + text[(j if op < 0.7 else i):]
            yield text


def test_fuzzed_text_parses_to_a_verified_module_or_raises_parse_error():
    parsed = rejected = 0
    for text in _mutations(random.Random(13), 800):
        try:
            module = parse_module(text)
        except ParseError as e:
            assert e.line >= 1
            rejected += 1
        else:
            assert parse_module(print_module(module)) is not None      # what verified prints and verifies again
            parsed += 1
    assert parsed and rejected
