"""Values that stand for a variable with no value yet, so converted code can pass it around.

Converted control flow passes every name a statement may assign into the functions it
generates and out again, including names not bound yet. Those travel as `Undefined`;
reading one (every load of such a name goes through `ld`) raises what Python or TF would:
UnboundLocalError for a plain unbound name, TF's ValueError for a variable that a tensor
`if` defines in one branch only or that a tensor loop defines without a value before it.
The function's return value starts as `UndefinedReturnValue`, which operators.retval turns into None.
"""
from __future__ import annotations


class Undefined:
    """A name with no value; using it raises `error()`."""

    __slots__ = ("symbol_name", "message", "error_type")

    def __init__(self, symbol_name: str, message: str | None = None, error_type: type = UnboundLocalError):
        self.symbol_name = symbol_name
        self.message = message or f"local variable '{symbol_name}' referenced before assignment"
        self.error_type = error_type

    def error(self) -> Exception:
        return self.error_type(self.message)

    def __repr__(self) -> str:
        return f"<Undefined {self.symbol_name}>"

    def __getattr__(self, name):
        raise self.error()


def _raiser(self, *args, **kwargs):
    raise self.error()


for _name in ("add radd sub rsub mul rmul truediv rtruediv floordiv rfloordiv mod rmod pow rpow matmul rmatmul "
              "neg pos abs invert and rand or ror xor rxor lt le gt ge getitem setitem iter len call bool "
              "iadd isub imul itruediv ifloordiv imod ipow imatmul iand ior ixor index int float").split():
    setattr(Undefined, f"__{_name}__", _raiser)


class UndefinedReturnValue:
    """The return value of a converted function before any `return` ran (None once it returns)."""

    def __repr__(self) -> str:
        return "<UndefinedReturnValue>"


def ld(value):
    """A load of a name that converted control flow may leave undefined."""
    if isinstance(value, Undefined):
        raise value.error()
    return value


def is_undefined(value) -> bool:
    return isinstance(value, (Undefined, UndefinedReturnValue))
