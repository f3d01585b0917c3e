"""Attributes as state: `self.x = ...` under a tensor `if` or in a tensor loop, as TF's AutoGraph allows.

A branch or loop body is traced once, so an attribute it assigns would keep whatever the last
trace left (a tensor of the other branch, or a loop body's placeholder). The operators instead
carry each such attribute like a variable: its value before the statement joins the state,
each traced function starts from that value (written back onto the object first) and returns
the attribute's value at its end, and the tf.cond / tf.while_loop result is written onto the
object afterwards. The converter lists the attributes (`obj.attr` with `obj` a name or attribute
chain the statement does not rebind) in `opts["composites"]` as (object, attribute, label).
"""
from __future__ import annotations

from xlite.function.autograph.undefined import Undefined, is_undefined


class Composites:
    """The attributes one statement assigns: read, written and threaded through traced functions."""

    def __init__(self, opts: dict):
        self.items = list(opts.get("composites", ()))

    def __bool__(self) -> bool:
        return bool(self.items)

    def labels(self) -> tuple:
        return tuple(label for _, _, label in self.items)

    def read(self) -> tuple:
        return tuple(getattr(obj, attr) if hasattr(obj, attr) else Undefined(label)
                     for obj, attr, label in self.items)

    def write(self, values) -> None:
        for (obj, attr, _), value in zip(self.items, values):
            if is_undefined(value):
                if hasattr(obj, attr):
                    delattr(obj, attr)
            else:
                setattr(obj, attr, value)

    def wrap(self, fn, n: int, lead: int = 0, outputs: bool = True):
        """`fn` over the statement's `n` variables, taking and (with `outputs`) returning the attributes' values
        after them; `lead` arguments (a for loop's element) come first and pass through."""
        def run(*args):
            state = args[lead:]
            self.write(state[n:])
            out = fn(*args[:lead], *state[:n])
            return tuple(out) + self.read() if outputs else out
        return run
