"""Checking a system's result against the interpreter's, and how a failure reads in a row."""
from __future__ import annotations

import numpy as np


class Mismatch(Exception):
    """A system's result disagrees with the interpreter's."""


def _close(name: str, got, want, rtol: float, atol: float) -> None:
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape:
        raise Mismatch(f"{name}: shape {got.shape} vs interpreter {want.shape}")
    scale = max(1.0, float(np.max(np.abs(want)))) if want.size else 1.0
    if not np.allclose(got, want, rtol=rtol, atol=atol * scale, equal_nan=True):
        err = float(np.max(np.abs(got.astype(np.float64) - want)))
        raise Mismatch(f"{name}: max abs error {err:.3g} (rtol {rtol}, atol {atol * scale:.3g})")


def _check_step(values: dict, ref: dict, workload) -> None:
    """Fetched outputs, then for a training step the updated Variables and the update itself."""
    for i, (got, want) in enumerate(zip(values["outputs"], ref["outputs"])):
        _close(f"output {i}", got, want, workload.rtol, workload.atol)
    for k, (got, want, before) in enumerate(zip(values["after"], ref["after"], ref["before"])):
        _close(f"variable {k} after one step", got, want, workload.rtol, workload.atol)
        delta = np.asarray(want, np.float64) - before
        _close(f"update of variable {k}", np.asarray(got, np.float64) - before, delta, 1e-3,
               1e-3 * float(np.max(np.abs(delta))) if delta.size else 0.0)


def _is_unimplemented(e: BaseException) -> bool:
    from xlite import errors
    return isinstance(e, (NotImplementedError, errors.UnimplementedError))


def _describe(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0] if text else ''}"[:160]
