"""The stack of default Sessions: what `Tensor.eval()`, `Operation.run()` and `Variable.load()` run in.

The Session class lives in the runtime, above the frontend; the stack lives here (as TF keeps
its default-session stack in framework/ops.py beside the Graph) so that those frontend methods
find the default Session without importing the runtime. `Session.as_default()` and
InteractiveSession push and remove themselves.
"""
from __future__ import annotations

_stack: list = []


def push(session) -> None:
    """Makes `session` the default until it is removed (again)."""
    _stack.append(session)


def remove(session) -> None:
    """Removes the innermost entry of `session`, wherever it is: InteractiveSessions close in any order."""
    for i in range(len(_stack) - 1, -1, -1):
        if _stack[i] is session:
            del _stack[i]
            return


def get_default_session():
    """The innermost Session made default by `with sess:`, `sess.as_default()` or InteractiveSession."""
    return _stack[-1] if _stack else None


__all__ = ["push", "remove", "get_default_session"]
