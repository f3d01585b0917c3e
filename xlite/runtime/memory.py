"""Allocations too large for this machine are TF's ResourceExhaustedError, found before native code runs.

TF allocates every tensor a graph computes, so a tensor bigger than memory fails as "OOM when allocating
tensor with shape[...]". `check_allocations` asks the same of each array a run's Module makes, against
`memory_limit()` (XLITE_MEMORY_LIMIT bytes, else the machine's physical memory), and a shape whose element
count overflows int64 is TF's InvalidArgumentError. `allocation_errors()` turns a MemoryError that still
happens (many tensors that fit one by one) into ResourceExhaustedError.
"""
from __future__ import annotations

import contextlib
import math
import os
from types import SimpleNamespace

from xlite import errors
from xlite.frontend.lower import _TF_PROTO_DTYPE as _TF_TYPE_NAMES
from xlite.ir.symbolic import evaluate, has_symbolic
from xlite.ir.module import Instruction, Module
from xlite.ir.shape import leaf_shapes

_INT64_MAX = 2 ** 63 - 1


def memory_limit() -> int:
    """Bytes one tensor may take: XLITE_MEMORY_LIMIT, or the machine's physical memory."""
    configured = os.environ.get("XLITE_MEMORY_LIMIT")
    if configured:
        try:
            return int(configured)
        except ValueError:
            pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return _INT64_MAX


def check_allocations(module: Module, device: str = "CPU") -> None:
    """Raises ResourceExhaustedError naming the first instruction whose array exceeds memory_limit(), and
    InvalidArgumentError for one whose element count overflows int64 (as TF's TensorShape does).
    Arrays of a symbolic size are checked at each run's sizes instead (`check_sized_allocations`)."""
    limit = memory_limit()
    for inst, shape in _allocations(module, symbolic=False):
        _check(inst, shape, limit, device)


def symbolic_allocations(module: Module) -> list:
    """The (instruction, shape) of every array of a symbolic size a Module makes: what each run checks."""
    return list(_allocations(module, symbolic=True))


def check_sized_allocations(allocations: list, env: dict, device: str = "CPU") -> None:
    """`check_allocations` for arrays of a symbolic size (`symbolic_allocations`) at symbol values `env`."""
    limit = memory_limit()
    for inst, shape in allocations:
        _check(inst, shape.with_dims(evaluate(d, env) for d in shape.dims), limit, device)


def _allocations(module: Module, symbolic: bool):
    for comp in module.all_computations():
        for inst in comp.instructions:
            for shape in leaf_shapes(inst.shape):
                if shape.is_static and has_symbolic(shape.dims) == symbolic:
                    yield inst, shape


def _check(inst: Instruction, shape, limit: int, device: str) -> None:
    elements = math.prod(shape.dims)
    if elements > _INT64_MAX:
        raise errors.InvalidArgumentError(None, _op_of(inst), _overflow_message(shape.dims))
    if elements * shape.dtype.itemsize > limit:
        raise errors.ResourceExhaustedError(None, _op_of(inst), oom_message(shape, device))


def oom_message(shape, device: str = "CPU") -> str:
    type_name = _TF_TYPE_NAMES.get(shape.dtype.name, shape.dtype.name)
    return (f"OOM when allocating tensor with shape[{','.join(map(str, shape.dims))}] and type {type_name} "
            f"on /job:localhost/replica:0/task:0/device:{device}:0 by allocator {device.lower()} "
            f"({shape.byte_size} bytes; the limit is {memory_limit()} bytes, XLITE_MEMORY_LIMIT sets it)")


def _overflow_message(dims) -> str:
    product = 1
    for d in dims:
        if product * d > _INT64_MAX:
            return f"Encountered overflow when multiplying {product} with {d}, result: -1"
        product *= d
    return "Encountered overflow in the number of elements"


def _op_of(inst: Instruction):
    """What errors.OpError names: the TF op that made the instruction, at the user's line."""
    return SimpleNamespace(name=inst.metadata.op_name or inst.name, metadata=inst.metadata)


@contextlib.contextmanager
def allocation_errors():
    """A MemoryError inside (NumPy, the arena, an executable's outputs) becomes ResourceExhaustedError."""
    try:
        yield
    except MemoryError as e:
        raise errors.ResourceExhaustedError(None, None, f"OOM when allocating tensor: {e}") from None


__all__ = ["memory_limit", "check_allocations", "symbolic_allocations", "check_sized_allocations", "oom_message",
           "allocation_errors"]
