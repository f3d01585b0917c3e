"""`for x in dataset:` inside a tf.function (AutoGraph): the loop runs in the graph, as TF's does.

TF turns such a loop into a dataset reduce. xlite's executables take their inputs before a run, so the
loop reads a `DatasetElements` op: a host op (xlite/runtime/host_fed.py) whose outputs are every element
of a fresh pass over the dataset, each component stacked along a new dim 0, made by the host before
each call of the function (a Session run in graph mode, the eager runner's call otherwise). AutoGraph's
`for_stmt` then runs a tf.while_loop over dim 0, so the loop's variables are carried in the graph and
each call sees the data as it is then (a shuffle reshuffles, a generator runs again).

What needs more than that is UnimplementedError naming the loop's line: an infinite dataset (TF stops
it with `break`; a pass cannot be made ahead of the run), string components (no executable takes one),
elements of differing shapes (raised at the run), and a dataset built from the trace's own tensors.
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
    """The host side of a DatasetElements op: a fresh pass, each component stacked."""

    def __init__(self, dataset: Dataset, specs: list, where: str, op_ref=None):
        self.dataset, self.specs, self.where = dataset, specs, where
        self.op_ref = op_ref        # set for next(iterator): an empty pass is TF's OutOfRangeError

    def next_value(self, session) -> list:
        columns = [[] for _ in self.specs]
        for element in host_elements(self.dataset):
            for column, value in zip(columns, nest.flatten(element)):
                column.append(np.asarray(value))
        if self.op_ref is not None and not columns[0]:
            raise errors.OutOfRangeError(None, self.op_ref(), "End of sequence")
        out = []
        for column, spec in zip(columns, self.specs):
            if not column:
                dims = [d or 0 for d in (spec.shape.dims or [])]
                out.append(np.zeros([0] + dims, spec.dtype.np))
                continue
            if any(v.shape != column[0].shape for v in column):
                raise errors.unimplemented(
                    f"{self.where}: for loop over a tf.data.Dataset inside tf.function whose elements differ "
                    f"in shape ({sorted({v.shape for v in column})}): xlite runs the loop over the elements "
                    "stacked. Use batch(..., drop_remainder=True) or padded_batch.")
            out.append(np.stack(column).astype(spec.dtype.np, copy=False))
        return out


def stacked_elements(dataset: Dataset, where: str, _next: bool = False):
    """The dataset's elements as graph tensors of the default graph, each component with a new dim 0."""
    def refuse(why: str):
        return errors.unimplemented(f"{where}: for loop over a tf.data.Dataset inside tf.function {why}")
    if dataset._cardinality() == INFINITE:
        raise refuse("over an infinite dataset: xlite makes a pass over the data before each call")
    specs = nest.flatten(dataset.element_spec)
    if any(s.dtype is structure.string for s in specs):
        raise refuse("with tf.string components: no executable takes strings")
    if any(t._static_value is None for t in dataset.graph_tensors()):
        raise refuse("over a dataset made from the function's own tensors: pass the dataset in instead")
    shapes = [TensorShape([None]).concatenate(s.shape) for s in specs]
    op = make_op("DatasetElements", [], {"output_types": tuple(s.dtype for s in specs),
                                         "output_shapes": tuple(shapes)},
                 name="DatasetElements", n_outputs=len(specs), output_shapes=shapes)
    host_fed.attach(op, _AllElements(dataset, specs, where, weakref.ref(op) if _next else None))
    return nest.pack_sequence_as(dataset.element_spec, list(op.outputs))


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
