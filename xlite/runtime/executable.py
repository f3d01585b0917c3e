"""Compiled run signatures: one `compile_module` for every target, one `run(args) -> results` for the Session."""
from __future__ import annotations

import os

import numpy as np

from xlite.ir.module import Module
from xlite.runtime.interpreter import evaluate_module

TARGETS = ("cpu", "cuda", "interpreter")


class Executable:
    """Runs a Module on flat NumPy arguments and returns its flat results."""

    target = "abstract"

    def __init__(self, module: Module):
        self.module = module

    def run(self, args: list[np.ndarray]) -> list[np.ndarray]:
        raise NotImplementedError


class InterpreterExecutable(Executable):
    target = "interpreter"

    def run(self, args):
        return list(evaluate_module(self.module, args))


def default_target() -> str:
    return os.environ.get("XLITE_TARGET", "interpreter")


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
        raise NotImplementedError("target 'cpu' needs llvmlite with a native target for this machine")
    raise NotImplementedError(f"target {target!r} is not available yet in this build of xlite")


def compile_module(module: Module, target: str) -> Executable:
    """The one seam every backend extends: an optimized Module in, an Executable out."""
    if target == "interpreter":
        return InterpreterExecutable(module)
    if target == "cpu":
        from xlite.codegen.cpu import compile_cpu
        return compile_cpu(module)
    raise NotImplementedError(f"target {target!r} is not available yet in this build of xlite")
