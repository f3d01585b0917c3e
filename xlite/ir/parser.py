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
from xlite.ir.shape import Layout, Shape, TupleShape


class ParseError(ValueError):
    """The text is not a module in xlite's IR format."""


_TOKEN = re.compile(r"""
    (?P<space>\s+|//[^\n]*)
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<name>%[^\s,(){}\[\]=%"]+)
  | (?P<word>[\w.+\-]+)
  | (?P<punct>[=,(){}\[\]?])
""", re.VERBOSE | re.DOTALL)
_INT = re.compile(r"-?\d+")
_FLOAT = re.compile(r"-?(\d+\.\d*|\d*\.\d+|\d+)([eE][+-]?\d+)?|-?inf|nan")
_ESCAPES = {"\\": "\\", '"': '"', "n": "\n"}
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
            raise ParseError(f"line {line}: unexpected character {text[pos]!r}")
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


def _scalar(text: str):
    if text in ("true", "false"):
        return text == "true"
    if _INT.fullmatch(text):
        return int(text)
    if _FLOAT.fullmatch(text):
        return float(text)
    return None


class _Parser:
    def __init__(self, text: str):
        self.tokens = _tokenize(text)
        self.pos = 0

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
        return ParseError(f"line {tok.line}: {message} (at {tok.text or 'end of text'!r})")

    def accept(self, text: str) -> bool:
        if self.peek.text == text and self.peek.kind in ("punct", "word"):
            self.pos += 1
            return True
        return False

    def expect(self, text: str) -> None:
        if not self.accept(text):
            raise self.error(f"expected {text!r}")

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
            raise self.error(f"expected an integer, got {text!r}")
        return int(text)

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
                raise ParseError(f"line {line}: %{inst.name} calls unknown computation %{missing[0]}")
            inst.called = tuple(by_name[n] for n in names)
        return module

    def computation(self, pending: list) -> Computation:
        comp = Computation(self.ident())
        self.expect("{")
        by_name: dict[str, Instruction] = {}
        root = None
        while not self.accept("}"):
            line = self.peek.line
            is_root = self.accept("ROOT")
            inst, called = self.instruction(by_name)
            if inst.name in by_name:
                raise ParseError(f"line {line}: %{inst.name} is defined twice in %{comp.name}")
            by_name[inst.name] = inst
            comp.add(inst)
            if called:
                pending.append((inst, called, line))
            if is_root:
                if root is not None:
                    raise ParseError(f"line {line}: %{comp.name} has more than one ROOT")
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
            literal = np.array(self.literal(), dtype=shape.dtype.np).reshape(shape.dims)
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
        if self.accept("("):
            elements = []
            if not self.accept(")"):
                elements.append(self.shape())
                while self.accept(","):
                    elements.append(self.shape())
                self.expect(")")
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
            dims.append(None if self.accept("?") else self.int())
            while self.accept(","):
                dims.append(None if self.accept("?") else self.int())
            self.expect("]")
        layout = None
        if self.peek.text == "{":
            layout = Layout(tuple(self.int_tuple()))
        return Shape(dtype, tuple(dims), layout)

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
    def literal(self):
        if self.accept("{"):
            elements = []
            if not self.accept("}"):
                elements.append(self.literal())
                while self.accept(","):
                    elements.append(self.literal())
                self.expect("}")
            return elements
        text = self.word()
        value = _scalar(text)
        if value is None:
            self.pos -= 1
            raise self.error(f"bad literal element {text!r}")
        return value

    def attr_value(self, key: str):
        if self.accept("{"):
            values = []
            if not self.accept("}"):
                values.append(self.attr_value(key))
                while self.accept(","):
                    values.append(self.attr_value(key))
                self.expect("}")
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
        value = _scalar(tok.text)
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
            if key not in Metadata.__dataclass_fields__:
                self.pos -= 1
                raise self.error(f"unknown metadata field {key!r}")
            if key == "source_line":
                fields[key] = int(tok.text)
            elif tok.kind == "string":
                fields[key] = _unquote(tok.text)
            else:
                fields[key] = tok.text
        return Metadata(**fields)


def parse_module(text: str) -> Module:
    """The Module that `text` describes; raises ParseError naming the line of the first mistake."""
    return _Parser(text).module()
