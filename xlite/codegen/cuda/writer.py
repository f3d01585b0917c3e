"""CUDA C text under construction: nested blocks of lines, with placeholders filled in later."""
from __future__ import annotations

import contextlib


class Block:
    """Lines and child blocks; a child opened by `scope` is indented and braced, a placeholder is not."""

    def __init__(self, indent: int = 0):
        self.indent = indent
        self.items: list = []

    def line(self, text: str) -> None:
        self.items.append(text)

    def placeholder(self) -> "Block":
        """A block at the current position that later code may still append to."""
        child = Block(0)
        self.items.append(child)
        return child

    def render(self, depth: int = 0) -> list[str]:
        out = []
        for item in self.items:
            if isinstance(item, Block):
                out.extend(item.render(depth + item.indent))
            else:
                out.append("  " * depth + item if item else "")
        return out


class Writer:
    """The current block of a kernel body; `scope` opens `header {` ... `}`."""

    def __init__(self, root: Block | None = None):
        self.root = root or Block()
        self.block = self.root

    def line(self, text: str) -> None:
        self.block.line(text)

    def placeholder(self) -> Block:
        return self.block.placeholder()

    @contextlib.contextmanager
    def scope(self, header: str = ""):
        self.block.line(f"{header} {{".strip())
        inner = Block(1)
        self.block.items.append(inner)
        outer, self.block = self.block, inner
        try:
            yield inner
        finally:
            self.block = outer
            self.block.line("}")

    def text(self, depth: int = 1) -> str:
        return "\n".join(self.root.render(depth)) + "\n"


__all__ = ["Block", "Writer"]
