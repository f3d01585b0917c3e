"""Run-time index checks: TF's kernels raise InvalidArgumentError for an index out of range
("indices[3] = 12 is not in [0, 10)"); the compiled code clamps (it never reads out of bounds) and also
computes, as one more output of the run, the first bad index: [flat position (-1: none), its value, bound].

A lowering rule calls `check_in_range` (or `add_check` with a vector of its own); lower_run makes each check an
output of the run and lists them on the Module (`module.run_checks`, (output number, RunCheck) pairs), and the compile driver's executables raise
after a native call whose check found one (xlite/runtime/driver.py). An index known when the graph is lowered
raises there, before anything runs. Inside a while or cond body a lowering has no run outputs: it clamps; an AOT
object computes the checks but has no Python to raise in: it clamps too.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from xlite import errors
from xlite.ir import dtypes
from xlite.ir.symbolic import is_symbolic

__all__ = ["RunCheck", "TupleCheck", "add_check", "check_in_range", "check_tuples_in_range", "equal_grid", "first_of",
           "flat_int64", "repeated", "site", "REPORTED_OP_TYPES"]

# xlite's own checking ops -> the TF op whose error they raise: an eager error names that op, as TF's does
REPORTED_OP_TYPES: dict[str, str] = {}


@dataclass(frozen=True)
class RunCheck:
    """What a check output's values mean: TF's message for the op `op_name` (made at `where`, the user's line),
    whose indices had `dims`."""
    op_name: str
    where: str
    dims: tuple          # the indices' dims (a symbolic one: the message gives the flat position)
    error: str = "InvalidArgumentError"
    template: str = "indices{where} = {value} is not in [0, {bound})"

    def raise_if_failed(self, found) -> None:
        position, value, bound = (int(v) for v in np.asarray(found).reshape(-1)[:3])
        if position >= 0:
            raise self.error_for(position, value, bound)

    def error_for(self, position: int, value: int, bound: int, named: bool = True) -> errors.OpError:
        """TF's error; `named`: the message names the op (a lowering's error is named where it is caught)."""
        if self.dims and not any(is_symbolic(d) for d in self.dims):
            where = "[" + ",".join(str(int(i)) for i in np.unravel_index(position, self.dims)) + "]"
        else:
            where = f"[{position}]"
        message = self.template.format(where=where, value=value, bound=bound)
        if named:
            defined = f" (defined at {self.where})" if self.where else ""
            message += f"\n\t [[node {self.op_name}{defined} ]]"
        return getattr(errors, self.error)(None, None, message)


class TupleCheck(RunCheck):
    """A check whose output is [position or -1, the index tuple there...]: TF's gather_nd message."""

    def raise_if_failed(self, found) -> None:
        found = [int(v) for v in np.asarray(found).reshape(-1)]
        if found[0] >= 0:
            raise self.error_for(found[0], ", ".join(str(v) for v in found[1:]), 0)


def check_tuples_in_range(ctx, op, indices, param_dims: tuple) -> None:
    """tf.gather_nd's check: each index tuple along indices' last axis inside the leading dims of params
    (TF's "indices[1] = [5, 0] does not index into param shape [3,2]")."""
    if ctx.static:
        return
    batch = tuple(indices.shape.dims[:-1])
    k = indices.shape.dims[-1]
    lead = tuple(param_dims[:k])
    template = "indices{where} = [{value}] does not index into param shape [" + ",".join(map(str, param_dims)) + "]"
    check = TupleCheck(op.name, site(op), batch, template=template)
    known = ctx.constant_value(indices)
    if known is not None:
        tuples = np.asarray(known).reshape(-1, k)
        bad = np.flatnonzero(((tuples < 0) | (tuples >= np.array(lead, np.int64))).any(axis=1)) if k else []
        if len(bad):
            raise check.error_for(int(bad[0]), ", ".join(str(int(v)) for v in tuples[bad[0]]), 0, named=False)
        return
    if not k or getattr(ctx, "run_checks", None) is None:
        return
    b, i64 = ctx.b, dtypes.int64
    count = _element_count(batch)
    rows = b.convert(b.reshape(indices, (count, k)), i64)
    columns = [b.reshape(_slice(b, rows, (0, j), (count, j + 1)), (count,)) for j in range(k)]
    bad = None
    for column, d in zip(columns, lead):
        outside = _outside(b, column, d)
        bad = outside if bad is None else b.emit("or", (bad, outside))
    found = first_of(b, bad, columns[0], 0)           # [position, first component, 0]
    position = b.reshape(_slice(b, found, (0,), (1,)), ())
    parts = [b.reshape(position, (1,))] + [b.reshape(_value_at(b, c, position), (1,)) for c in columns]
    add_check(ctx, b.emit("concatenate", tuple(parts), dimension=0), check)


def _slice(b, x, start: tuple, limit: tuple):
    return b.emit("slice", (x,), start_indices=start, limit_indices=limit, strides=(1,) * len(start))


def site(op) -> str:
    """The user's line that made op, as errors name it."""
    metadata = getattr(op, "metadata", None)
    return metadata.where() if metadata is not None else ""


def check_in_range(ctx, op, indices, bound, check: RunCheck | None = None) -> None:
    """Raises now for known indices outside [0, bound); for indices known only at run time, adds a check output
    to the run (a no-op where the context keeps none: static shape inference, while and cond bodies)."""
    if ctx.static:
        return
    check = check or RunCheck(op.name, site(op), tuple(indices.shape.dims))
    known = ctx.constant_value(indices)
    if known is not None and not is_symbolic(bound):
        flat = np.asarray(known).reshape(-1)
        bad = np.flatnonzero((flat < 0) | (flat >= bound))
        if bad.size:
            raise check.error_for(int(bad[0]), int(flat[bad[0]]), int(bound), named=False)
        return
    add_check(ctx, _first_bad(ctx.b, indices, bound), check)


def add_check(ctx, found, check: RunCheck) -> None:
    """Makes `found` (int64 [position or -1, value, bound]) an output the run checks after the call; nothing where
    the context keeps no run outputs (static shape inference, while and cond bodies)."""
    checks = getattr(ctx, "run_checks", None)
    if checks is not None and not ctx.static:
        checks.append((found, check))


def first_of(b, bad, values, bound):
    """int64 [flat position of the first True in the 1-D `bad` or -1, values there (0 if none), bound]."""
    i64 = dtypes.int64
    count = bad.shape.dims[0]
    ramp = b.iota(i64, (count,), 0)
    none = np.iinfo(np.int64).max
    first = b.reduce(b.emit("select", (bad, ramp, b.broadcast_to(b.scalar(none, i64), (count,)))), "min", (0,))
    found = b.compare(first, b.scalar(none, i64), "LT")
    position = b.emit("select", (found, first, b.scalar(-1, i64)))
    limit = b.scalar(bound, i64)
    return b.emit("concatenate", tuple(b.reshape(v, (1,)) for v in (position, _value_at(b, values, position), limit)),
                  dimension=0)


def _value_at(b, values, position):
    """values[position] of a 1-D int64 vector, 0 where position is -1 (no gather: values may be empty)."""
    i64 = dtypes.int64
    count = values.shape.dims[0]
    at = b.compare(b.iota(i64, (count,), 0), b.broadcast_to(position, (count,)), "EQ")
    return b.reduce(b.emit("select", (at, values, b.broadcast_to(b.scalar(0, i64), (count,)))), "sum", (0,))


def _element_count(dims):
    count = 1
    for d in dims:              # (symbolic dims multiply too)
        count = count * d
    return count


def _outside(b, flat, bound):
    """bool: each element of the 1-D int64 `flat` outside [0, bound)."""
    i64 = dtypes.int64
    count = flat.shape.dims[0]
    return b.emit("or", (b.compare(flat, b.broadcast_to(b.scalar(0, i64), (count,)), "LT"),
                         b.compare(flat, b.broadcast_to(b.scalar(bound, i64), (count,)), "GE")))


def flat_int64(b, x):
    """x as a 1-D int64 vector."""
    return b.convert(b.reshape(x, (_element_count(x.shape.dims),)), dtypes.int64)


def _first_bad(b, indices, bound):
    """int64 [flat position of the first index outside [0, bound) or -1, its value, bound]."""
    flat = flat_int64(b, indices)
    return first_of(b, _outside(b, flat, bound), flat, bound)


def equal_grid(b, a, c):
    """bool [i, j]: a[i] == c[j], for 1-D a and c."""
    grid = (a.shape.dims[0], c.shape.dims[0])
    return b.compare(b.broadcast_in_dim(a, grid, (0,)), b.broadcast_in_dim(c, grid, (1,)), "EQ")


def repeated(b, flat, where: str):
    """bool [p]: flat[p] also appears at a position q with q `where` p ("LT": earlier, "GT": later), by an
    O(n^2) comparison."""
    count = flat.shape.dims[0]
    square = (count, count)
    placed = b.compare(b.iota(dtypes.int32, square, 1), b.iota(dtypes.int32, square, 0), where)
    return b.reduce(b.emit("and", (equal_grid(b, flat, flat), placed)), "or", (1,))
