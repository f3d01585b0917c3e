"""`for x in dataset:` inside a tf.function (AutoGraph): the loop runs in the graph, as TF's does.

TF turns such a loop into a dataset reduce. xlite's executables take their inputs before a run, so the
loop reads a `DatasetElements` op: a host op (xlite/runtime/host_fed.py) whose outputs are every element
of a fresh pass over the dataset, each component stacked along a new dim 0, made by the host before
each call of the function (a Session run in graph mode, the eager runner's call otherwise). AutoGraph's
`for_stmt` then runs a tf.while_loop over dim 0, so the loop's variables are carried in the graph and
each call sees the data as it is then (a shuffle reshuffles, a generator runs again).

What needs more than that is UnimplementedError naming the loop's line: an infinite dataset (TF stops
it with `break`; a pass cannot be made ahead of the run), string components (no executable takes one),
elements of differing shapes (raised at the run) but for a last one (a remainder batch: a second
tf.while_loop runs the body on it, 0 or 1 times), and a dataset built from the trace's own tensors.
`iter(dataset)` inside a trace is a `GraphIterator` whose k-th `next()` reads one such op over
`dataset.skip(k).take(1)`.
"""
from __future__ import annotations

import weakref

import numpy as np

from xlite import errors
from xlite.data import structure
from xlite.data.dataset import INFINITE, Dataset, host_elements
from xlite.frontend import nest
from xlite.frontend.gather_ops import gather
from xlite.frontend.gradients import no_gradient
from xlite.frontend.op_registry import lowering, make_op
from xlite.frontend.tensor_shape import TensorShape
from xlite.ir.shape import Shape
from xlite.runtime import host_fed


@lowering("DatasetElements", stateful=True)
def _lower_dataset_elements(ctx, op):
    if not ctx.static:      # the host feeds every output before the run
        raise errors.unimplemented(f"DatasetElements '{op.name}': evaluating it outside a run that feeds it")
    return [ctx.unknown(Shape(dtype, () if shape.ndims is None else tuple(shape.dims)))
            for dtype, shape in zip(op.attrs["output_types"], op.attrs["output_shapes"])]


no_gradient("DatasetElements")


class _AllElements:
    """The host side of a DatasetElements op: a fresh pass, each component stacked. With `tail`, the op
    has a second set of outputs: the last element alone when its shape differs from the others' (a
    remainder batch), else nothing (a dim 0 of size 0)."""

    def __init__(self, dataset: Dataset, specs: list, where: str, op_ref=None, tail: bool = False):
        self.dataset, self.specs, self.where, self.tail = dataset, specs, where, tail
        self.op_ref = op_ref        # set for next(iterator): an empty pass is TF's OutOfRangeError

    def next_value(self, session) -> list:
        rows = [[np.asarray(v) for v in nest.flatten(element)] for element in host_elements(self.dataset)]
        if self.op_ref is not None and not rows:
            raise errors.OutOfRangeError(None, self.op_ref(), "End of sequence")
        shapes = [tuple(v.shape for v in row) for row in rows]
        last = rows[-1:] if self.tail and rows and shapes[-1] != shapes[0] else []
        main = rows[:len(rows) - len(last)]
        if any(shape != shapes[0] for shape in shapes[:len(main)]):
            raise errors.unimplemented(
                f"{self.where}: for loop over a tf.data.Dataset inside tf.function whose elements differ in shape "
                f"({sorted(set(shapes))}): xlite runs the loop over the elements stacked (a remainder batch "
                "last aside). Use batch(..., drop_remainder=True) or padded_batch.")
        out = self._stacked(main, rows[0] if rows else None)
        return out + self._stacked(last, rows[0] if rows else None) if self.tail else out

    def _stacked(self, rows: list, like) -> list:
        if rows:
            return [np.stack(column).astype(spec.dtype.np, copy=False) for column, spec in zip(zip(*rows), self.specs)]
        return [np.zeros((0,) + (v.shape if like is not None else tuple(d or 0 for d in (spec.shape.dims or []))),
                         spec.dtype.np) for v, spec in zip(like if like is not None else self.specs, self.specs)]


def stacked_elements(dataset: Dataset, where: str, _next: bool = False, tail: bool = False):
    """The dataset's elements as graph tensors of the default graph, each component with a new dim 0; with
    `tail`, a list of two such structures: the elements before a remainder, and the remainder (0 or 1)."""
    def refuse(why: str):
        return errors.unimplemented(f"{where}: for loop over a tf.data.Dataset inside tf.function {why}")
    if dataset._cardinality() == INFINITE:
        raise refuse("over an infinite dataset: xlite makes a pass over the data before each call")
    specs = nest.flatten(dataset.element_spec)
    if any(s.dtype is structure.string for s in specs):
        raise refuse("with tf.string components: no executable takes strings")
    if any(t._static_value is None for t in dataset.graph_tensors()):
        raise refuse("over a dataset made from the function's own tensors: pass the dataset in instead")
    shapes = [TensorShape([None]).concatenate(s.shape) for s in specs] * (2 if tail else 1)
    op = make_op("DatasetElements", [], {"output_types": tuple(s.dtype for s in specs) * (2 if tail else 1),
                                         "output_shapes": tuple(shapes)},
                 name="DatasetElements", n_outputs=len(shapes), output_shapes=shapes)
    host_fed.attach(op, _AllElements(dataset, specs, where, weakref.ref(op) if _next else None, tail))
    outputs = list(op.outputs)
    if not tail:
        return nest.pack_sequence_as(dataset.element_spec, outputs)
    return [nest.pack_sequence_as(dataset.element_spec, outputs[:len(specs)]),
            nest.pack_sequence_as(dataset.element_spec, outputs[len(specs):])]


class GraphIterator:
    """`iter(dataset)` inside a tf.function: as in TF, a fresh iterator at each call of the function, whose
    k-th `next()` is element k of a fresh pass (a DatasetElements op over `skip(k).take(1)`; OutOfRangeError
    at the run past the end)."""

    def __init__(self, dataset: Dataset):
        self._dataset, self._taken = dataset, 0

    @property
    def element_spec(self):
        return self._dataset.element_spec

    def __iter__(self):
        raise errors.unimplemented("a for loop over an iterator inside tf.function: loop over the dataset "
                                   "itself (`for x in dataset:`), or call next() a fixed number of times")

    def __next__(self):
        return self.get_next()

    def get_next(self):
        one = self._dataset.skip(self._taken).take(1)
        self._taken += 1
        stacked = stacked_elements(one, f"next() of iter(dataset) (element {self._taken - 1})", _next=True)
        return nest.pack_sequence_as(stacked, [gather(t, 0) for t in nest.flatten(stacked)])


__all__ = ["GraphIterator", "stacked_elements"]
