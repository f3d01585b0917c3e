"""Compiled run signatures: the targets, and the interpreter's executables (`run(args) -> results`).

The compile driver (xlite/runtime/driver.py) makes every executable."""
from __future__ import annotations

import os
from typing import Sequence

import numpy as np

from xlite import cancellation, errors
from xlite.ir.module import Module
from xlite.semantics.eval_rules import evaluate_module

TARGETS = ("cpu", "cuda", "interpreter")


class Executable:
    """Runs a Module on flat arguments and returns its flat results, through one call.

    `call(args)` takes arguments a Session's RunPlan has checked (xlite/runtime/run_plan.py: arrays
    that fit their parameters, or a backend's own values such as cuda's DeviceArrays); `run(args)` is
    for any other caller and reaches the same `call`, converting first where a backend needs it."""

    target = "abstract"

    def __init__(self, module: Module):
        self.module = module

    def call(self, args: Sequence, stop: cancellation.RunFlag | None = None) -> Sequence:
        """The root outputs; `stop`, once set, ends the run early with its error (xlite/cancellation.py)."""
        raise NotImplementedError

    def run(self, args: Sequence, stop: cancellation.RunFlag | None = None) -> list:
        """`call` for arguments nobody checked: a backend whose call converts any value needs no more."""
        return list(self.call(args, stop))


class InterpreterExecutable(Executable):
    target = "interpreter"

    def call(self, args, stop=None):
        with cancellation.running(stop or cancellation.NEVER):     # checked per while iteration
            return list(evaluate_module(self.module, args))


class TracedInterpreterExecutable(InterpreterExecutable):
    """The interpreter for traced runs: `run_traced` times each instruction (xlite/runtime/tracing.py)."""

    def run_traced(self, args):
        from xlite.runtime.tracing import interpret_traced
        return interpret_traced(self.module, args)


def default_target() -> str:
    return os.environ.get("XLITE_TARGET", "cpu")


def resolve_target(target: str | None) -> str:
    if not target:
        return default_target()
    target = target.lower()
    if target in ("", "local", "grpc"):
        return default_target()
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}; expected one of {', '.join(TARGETS)}")
    return target


def check_target_available(target: str) -> None:
    """Raises a clear error at Session creation when a target cannot run on this machine."""
    if target == "interpreter":
        return
    if target == "cpu":
        from xlite.codegen.cpu import is_available
        if is_available():
            return
        raise errors.unimplemented("target 'cpu' needs llvmlite with a native target for this machine")
    if target == "cuda":
        from xlite.codegen.cuda.availability import check_available
        check_available()
        return
    raise errors.unimplemented(f"target {target!r} is not available yet in this build of xlite")
