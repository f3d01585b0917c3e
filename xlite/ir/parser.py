"""Reads the printer's HLO-style text back into a Module, so pass tests can be written as IR text.

`parse_module(print_module(m))` prints exactly as `m` does. The `HloModule` line is
optional, and names may be written with or without `%`, as in STYLE.md's examples.
"""
from __future__ import annotations

import re

import numpy as np

from xlite.ir import dtypes
from xlite.ir.module import Computation, Instruction, Metadata, Module
from xlite.ir.opcodes import op_info
from xlite.ir.symbolic import SymbolicUnsupported, evaluate, parse_dim
from xlite.ir.shape import Layout, Shape, TupleShape
from xlite.ir.verifier import VerificationError, verify_module


class ParseError(ValueError):
    """The text is not a well-formed, verified module in xlite's IR format; `line` is where (1-based)."""

    def __init__(self, message: str, line: int = 1):
        super().__init__(f"line {line}: {message}")
        self.message, self.line = message, line


_TOKEN = re.compile(r"""
    (?P<space>\s+|//[^\n]*)
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<name>%[^\s,(){}\[\]=%"]+)
  | (?P<word>[\w.+\-]+)
  | (?P<punct>[=,(){}\[\]?*])
""", re.VERBOSE | re.DOTALL)
_INT = re.compile(r"-?\d+")
_FLOAT = re.compile(r"-?(\d+\.\d*|\d*\.\d+|\d+)([eE][+-]?\d+)?|-?inf|nan")
_ESCAPES = {"\\": "\\", '"': '"', "n": "\n"}
_MAX_DEPTH = 256      # brackets nested deeper than any module needs: refused, not a RecursionError
_DTYPE_KEYS = frozenset({"dtype", "index_dtype"})   # attributes whose identifier value is a DType


class _Token:
    __slots__ = ("kind", "text", "line")

    def __init__(self, kind: str, text: str, line: int):
        self.kind, self.text, self.line = kind, text, line


def _tokenize(text: str) -> list[_Token]:
    tokens, pos, line = [], 0, 1
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ParseError(f"unexpected character {text[pos]!r}", line)
        if m.lastgroup != "space":
            tokens.append(_Token(m.lastgroup, m.group(), line))
        line += m.group().count("\n")
        pos = m.end()
    tokens.append(_Token("eof", "", line))
    return tokens


def _unquote(token: str) -> str:
    body, out, i = token[1:-1], [], 0
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body):
            out.append(_ESCAPES.get(body[i + 1], body[i + 1]))
            i += 2
        else:
            out.append(body[i])
            i += 1
    return "".join(out)


def _scalar(text: str, line: int):
    if text in ("true", "false"):
        return text == "true"
    if _INT.fullmatch(text):
        return _int(text, line)
    if _FLOAT.fullmatch(text):
        return float(text)
    return None


def _int(text: str, line: int) -> int:
    try:
        return int(text)
    except ValueError:       # more digits than Python converts (sys.get_int_max_str_digits)
        raise ParseError(f"integer {text[:20]}... has too many digits", line) from None


class _Parser:
    def __init__(self, text: str, sizes: dict | None = None):
        self.sizes = sizes              # symbol values: symbolic dims read as these numbers
        self.tokens = _tokenize(text)
        self.pos = 0
        self.depth = 0
        self.lines: dict[int, int] = {}      # id(instruction or computation) -> the line it starts on

    # token helpers ------------------------------------------------------------
    @property
    def peek(self) -> _Token:
        return self.tokens[self.pos]

    def next(self) -> _Token:
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def error(self, message: str) -> ParseError:
        tok = self.peek
        return ParseError(f"{message} (at {tok.text[:40] or 'end of text'!r})", tok.line)

    def accept(self, text: str) -> bool:
        if self.peek.text == text and self.peek.kind in ("punct", "word"):
            self.pos += 1
            return True
        return False

    def expect(self, text: str) -> None:
        if not self.accept(text):
            raise self.error(f"expected {text!r}")

    def open(self, bracket: str) -> bool:
        """Accepts an opening bracket, one level deeper; `close` leaves the level."""
        if not self.accept(bracket):
            return False
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            self.pos -= 1
            raise self.error(f"brackets nested more than {_MAX_DEPTH} deep")
        return True

    def close(self, bracket: str, optional: bool = False) -> bool:
        if optional and self.peek.text != bracket:
            return False
        self.expect(bracket)
        self.depth -= 1
        return True

    def word(self) -> str:
        if self.peek.kind != "word":
            raise self.error("expected a word")
        return self.next().text

    def ident(self) -> str:
        """A name written with or without its `%`."""
        tok = self.peek
        if tok.kind == "name":
            return self.next().text[1:]
        if tok.kind == "word":
            return self.next().text
        raise self.error("expected a name")

    def int(self) -> int:
        text = self.word()
        if not _INT.fullmatch(text):
            self.pos -= 1
            raise self.error(f"expected an integer, got {text[:40]!r}")
        return _int(text, self.tokens[self.pos - 1].line)

    # module structure -----------------------------------------------------------
    def module(self) -> Module:
        name = "module"
        if self.accept("HloModule"):
            name = self.ident()
        module = Module(name)
        pending: list[tuple[Instruction, list[str], int]] = []
        while self.peek.kind != "eof":
            is_entry = self.accept("ENTRY")
            comp = self.computation(pending)
            if any(c.name == comp.name for c in module.computations):
                raise self.error(f"computation %{comp.name} is defined twice")
            module.add_computation(comp)
            if is_entry:
                if module.entry is not None:
                    raise self.error("more than one ENTRY computation")
                module.entry = comp
        if not module.computations:
            raise self.error("no computations")
        if module.entry is None:
            module.entry = module.computations[-1]
        by_name = {c.name: c for c in module.computations}
        for inst, names, line in pending:
            missing = [n for n in names if n not in by_name]
            if missing:
                raise ParseError(f"%{inst.name} calls unknown computation %{missing[0]}", line)
            inst.called = tuple(by_name[n] for n in names)
        return module

    def computation(self, pending: list) -> Computation:
        line = self.peek.line
        comp = Computation(self.ident())
        self.lines[id(comp)] = line
        self.expect("{")
        by_name: dict[str, Instruction] = {}
        root = None
        while not self.accept("}"):
            line = self.peek.line
            is_root = self.accept("ROOT")
            inst, called = self.instruction(by_name)
            if inst.name in by_name:
                raise ParseError(f"%{inst.name} is defined twice in %{comp.name}", line)
            by_name[inst.name] = inst
            self.lines[id(inst)] = line
            comp.add(inst)
            if called:
                pending.append((inst, called, line))
            if is_root:
                if root is not None:
                    raise ParseError(f"%{comp.name} has more than one ROOT", line)
                root = inst
        if not comp.instructions:
            raise self.error(f"computation %{comp.name} is empty")
        comp.root = root if root is not None else comp.instructions[-1]
        return comp

    def instruction(self, defined: dict) -> tuple[Instruction, list[str]]:
        name = self.ident()
        self.expect("=")
        shape = self.shape()
        opcode = self.word()
        try:
            op_info(opcode)
        except ValueError as e:
            self.pos -= 1
            raise self.error(str(e)) from None
        self.expect("(")
        operands, attrs, literal = [], {}, None
        if opcode == "parameter":
            attrs["number"] = self.int()
        elif opcode == "constant":
            if shape.is_tuple or not shape.is_static:
                raise self.error("a constant needs a static array shape")
            literal = self.constant_literal(shape)
        elif self.peek.text != ")":
            operands.append(self.operand(defined))
            while self.accept(","):
                operands.append(self.operand(defined))
        self.expect(")")
        metadata, called = Metadata(), []
        while self.accept(","):
            key = self.word()
            self.expect("=")
            if key == "calls":
                called = self.calls()
            elif key == "metadata":
                metadata = self.metadata()
            else:
                attrs[key] = self.attr_value(key)
        return Instruction(opcode, operands, shape, attrs, name=name, metadata=metadata, literal=literal), called

    def operand(self, defined: dict) -> Instruction:
        name = self.ident()
        if name not in defined:
            self.pos -= 1
            raise self.error(f"operand %{name} is not defined before its use")
        return defined[name]

    # shapes -----------------------------------------------------------------------
    def shape(self):
        if self.open("("):
            elements = []
            if not self.close(")", optional=True):
                elements.append(self.shape())
                while self.accept(","):
                    elements.append(self.shape())
                self.close(")")
            return TupleShape(tuple(elements))
        name = self.word()
        try:
            dtype = dtypes.as_dtype(name)
        except TypeError:
            self.pos -= 1
            raise self.error(f"unknown element type {name!r}") from None
        self.expect("[")
        dims = []
        if not self.accept("]"):
            dims.append(self.dim())
            while self.accept(","):
                dims.append(self.dim())
            self.expect("]")
        layout = None
        if self.peek.text == "{":
            layout = Layout(tuple(self.int_tuple()))
            if sorted(layout.minor_to_major) != list(range(len(dims))):
                self.pos -= 1
                raise self.error(f"layout {layout} is not a permutation of the {len(dims)} dims")
        return Shape(dtype, tuple(dims), layout)

    def dim(self):
        if self.accept("?"):
            return None
        end = self.pos
        while self.tokens[end].text not in (",", "]", ""):
            end += 1
        if end - self.pos > 1 or not _FLOAT.fullmatch(self.peek.text):    # symbolic: `b`, `784*b+1`
            text = "".join(t.text for t in self.tokens[self.pos:end])
            self.pos = end
            try:
                dim = parse_dim(text)
                return dim if self.sizes is None else evaluate(dim, self.sizes)
            except (ValueError, KeyError):
                raise self.error(f"bad symbolic dimension {text!r}") from None
        value = self.int()
        if value < 0:
            self.pos -= 1
            raise self.error(f"dimension {value} is negative")
        return value

    def int_tuple(self) -> list[int]:
        self.expect("{")
        values = []
        if not self.accept("}"):
            values.append(self.int())
            while self.accept(","):
                values.append(self.int())
            self.expect("}")
        return values

    # literals and attributes ----------------------------------------------------
    def constant_literal(self, shape: Shape) -> np.ndarray:
        line = self.peek.line
        elements = self.literal()
        try:
            with np.errstate(all="ignore"):
                return np.array(elements, dtype=shape.dtype.np).reshape(shape.dims)
        except (ValueError, TypeError, OverflowError) as e:
            raise ParseError(f"the literal does not fit {shape}: {e}", line) from None

    def literal(self):
        if self.open("{"):
            elements = []
            if not self.close("}", optional=True):
                elements.append(self.literal())
                while self.accept(","):
                    elements.append(self.literal())
                self.close("}")
            return elements
        text = self.word()
        value = _scalar(text, self.tokens[self.pos - 1].line)
        if value is None:
            self.pos -= 1
            raise self.error(f"bad literal element {text!r}")
        return value

    def attr_value(self, key: str):
        if self.open("{"):
            values = []
            if not self.close("}", optional=True):
                values.append(self.attr_value(key))
                while self.accept(","):
                    values.append(self.attr_value(key))
                self.close("}")
            return tuple(values)
        tok = self.next()
        if tok.kind == "string":
            return _unquote(tok.text)
        if tok.kind != "word":
            self.pos -= 1
            raise self.error(f"bad value for attribute {key!r}")
        if key in _DTYPE_KEYS:
            try:
                return dtypes.as_dtype(tok.text)
            except TypeError:
                pass
        value = _scalar(tok.text, tok.line)
        return tok.text if value is None else value

    def calls(self) -> list[str]:
        self.expect("{")
        names = [self.ident()]
        while self.accept(","):
            names.append(self.ident())
        self.expect("}")
        return names

    def metadata(self) -> Metadata:
        self.expect("{")
        fields = {}
        while not self.accept("}"):
            key = self.word()
            self.expect("=")
            tok = self.next()
            if tok.kind not in ("word", "string"):
                self.pos -= 1
                raise self.error(f"bad value for metadata field {key!r}")
            if key not in Metadata.__dataclass_fields__:
                self.pos -= 1
                raise self.error(f"unknown metadata field {key!r}")
            if key == "source_line":
                if tok.kind != "word" or not _INT.fullmatch(tok.text):
                    self.pos -= 1
                    raise self.error("source_line must be an integer")
                fields[key] = _int(tok.text, tok.line)
            elif tok.kind == "string":
                fields[key] = _unquote(tok.text)
            else:
                fields[key] = tok.text
        return Metadata(**fields)


def parse_module(text: str, sizes: dict | None = None) -> Module:
    """The verified Module that `text` describes; raises ParseError naming the line of the first mistake.
    `sizes` (symbol name -> number) makes each symbolic dim (xlite/ir/symbolic.py) that number."""
    parser = _Parser(text, sizes)
    try:
        module = parser.module()
    except SymbolicUnsupported as e:          # e.g. a constant whose shape has a symbolic size
        raise ParseError(e.message, parser.peek.line) from None
    try:
        verify_module(module)
    except VerificationError as e:
        where = e.instruction if e.instruction is not None else e.computation
        raise ParseError(str(e), parser.lines.get(id(where), 1)) from None
    return module


def parse_file(path: str) -> Module:
    """The verified Module in the IR text file at `path`: ParseError for text that is not one
    (bad UTF-8 included), OSError when the file cannot be read."""
    with open(path, "rb") as f:
        data = f.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise ParseError(f"invalid UTF-8: byte {data[e.start]:#04x} at offset {e.start}", line) from None
    return parse_module(text)
