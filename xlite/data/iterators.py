"""TF1 iterators over datasets: graph ops whose values the host makes around each Session.run.

`get_next()` is an `IteratorGetNext` op: at graph construction its outputs have the element spec's
dtypes and static shapes; at run time the Session fills them as feeds with the iterator's next
element (xlite/runtime/host_fed.py), so a training step reading them compiles into one executable
whose parameters are the element's arrays, handed over without a copy. An initializable iterator's
`initializer` is a `MakeIterator` op whose inputs are the dataset's graph tensors (placeholders fed
to the initializer's run): running it evaluates them with that run's feeds and starts a new pass.
As in TF, an iterator's position is state of the Session that runs it: two Sessions iterate apart.
"""
from __future__ import annotations

import threading
import weakref

from xlite import errors
from xlite.data import structure
from xlite.data.dataset import Dataset, ElementSpecProperties
from xlite.frontend import nest
from xlite.frontend.gradients import no_gradient
from xlite.frontend.graph import get_default_graph
from xlite.frontend.op_registry import lowering, make_op
from xlite.function import eager_bridge
from xlite.ir.shape import Shape
from xlite.runtime import host_fed


@lowering("IteratorGetNext", stateful=True)
def _lower_get_next(ctx, op):
    if not ctx.static:      # the Session feeds every output of a get_next op a run needs, strings aside
        raise errors.unimplemented(f"IteratorGetNext '{op.name}': fetching a tf.string component, or "
                                   "evaluating get_next outside Session.run")
    return [ctx.unknown(Shape(dtype, () if shape.ndims is None else tuple(shape.dims)))
            for dtype, shape in zip(op.attrs["output_types"], op.attrs["output_shapes"])]


@lowering("MakeIterator", stateful=True)
def _lower_make_iterator(ctx, op, *inputs):
    return []


no_gradient("IteratorGetNext", "MakeIterator")


class _Position:
    """An iterator's pass over its dataset in each Session: the pass's generator, or None before the
    first initialization."""

    def __init__(self):
        self.passes: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
        self.lock = threading.RLock()       # runs on several threads take elements one at a time, as in TF

    def start(self, session, dataset: Dataset, feed_dict) -> None:
        tensors = dataset.graph_tensors()
        values = session.run(tensors, feed_dict) if tensors else []
        old = self.passes.get(session)
        self.passes[session] = dataset._elements(dict(zip(tensors, values)))
        if old is not None:
            old.close()             # stops its prefetch threads


class _Initializer:
    """The host side of a MakeIterator op."""

    def __init__(self, position: _Position, dataset: Dataset):
        self.position, self.dataset = position, dataset

    def run_action(self, session, feed_dict) -> None:
        with self.position.lock:
            self.position.start(session, self.dataset, feed_dict)


class _NextElement:
    """The host side of an IteratorGetNext op: the flat arrays of the iterator's next element. String
    components are kept (`last`) for the host ops that read them (xlite/data/text.py) and fed as None."""

    def __init__(self, iterator: "Iterator", op_ref, strings: list[bool]):
        self.iterator, self.op_ref, self.strings = iterator, op_ref, strings
        self._last: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()

    def last(self, session) -> list:
        """The element this op gave in the Session's current run."""
        return self._last[session]

    def next_value(self, session) -> list:
        iterator = self.iterator
        position = iterator._position
        with position.lock:
            current = position.passes.get(session)
            if current is None:
                if iterator._one_shot is None:
                    raise errors.FailedPreconditionError(
                        None, self.op_ref(), "GetNext() failed because the iterator has not been initialized. "
                                             "Ensure that you have run the initializer operation for this "
                                             "iterator before getting the next element.")
                position.start(session, iterator._one_shot, None)
                current = position.passes[session]
            try:
                element = next(current)
            except StopIteration:
                raise errors.OutOfRangeError(None, self.op_ref(), "End of sequence") from None
        flat = nest.flatten(element)
        if not any(self.strings):
            return flat
        self._last[session] = flat
        return [None if is_string else v for v, is_string in zip(flat, self.strings)]


class Iterator(ElementSpecProperties):
    """tf.compat.v1.data.Iterator: `get_next()`, `initializer`, `make_initializer`, `from_structure`."""

    def __init__(self, spec, one_shot: Dataset | None = None, initial: Dataset | None = None,
                 shared_name: str | None = None):
        self._spec = spec
        self._position = _Position()
        self._one_shot = one_shot
        self._initializer = self.make_initializer(initial) if initial is not None else None

    @staticmethod
    def from_structure(output_types, output_shapes=None, shared_name=None, output_classes=None) -> "Iterator":
        types = structure.normalize(output_types, lists_are_tensors=False)
        flat_types = nest.flatten(types)
        if output_shapes is None:
            flat_shapes = [None] * len(flat_types)
        else:
            flat_shapes = nest.flatten(structure.normalize(output_shapes, lists_are_tensors=False)) \
                if nest.is_sequence(types) else [output_shapes]
            if len(flat_shapes) != len(flat_types):
                raise ValueError("output_shapes must have the structure of output_types")
        spec = nest.pack_sequence_as(types, [structure.TensorSpec(s, structure.as_dtype(t)) for t, s in zip(flat_types, flat_shapes)])
        return Iterator(spec, shared_name=shared_name)

    @property
    def initializer(self):
        if self._initializer is None:
            raise ValueError("Iterator does not have an initializer.")
        return self._initializer

    def make_initializer(self, dataset: Dataset, name: str | None = None):
        """An op that starts this iterator on `dataset` (whose elements must fit the iterator's spec)."""
        mine, theirs = self._spec, dataset.element_spec
        if not nest.same_structure(mine, theirs, check_types=False):
            raise TypeError(f"Expected output types {self.output_types} but got dataset with output types "
                            f"{dataset.output_types}.")
        for a, b in zip(nest.flatten(mine), nest.flatten(theirs)):
            if a.dtype != b.dtype:
                raise TypeError(f"Expected output types {self.output_types} but got dataset with output "
                                f"types {dataset.output_types}.")
            if not a.shape.is_compatible_with(b.shape):
                raise TypeError(f"Expected output shapes compatible with {self.output_shapes} but got dataset "
                                f"with output shapes {dataset.output_shapes}.")
        op = make_op("MakeIterator", dataset.graph_tensors(), name=name or "MakeIterator", n_outputs=0)
        host_fed.attach(op, _Initializer(self._position, dataset))
        return op

    def get_next(self, name: str | None = None):
        """The next element as graph tensors: each run that needs them advances the iterator once."""
        specs = nest.flatten(self._spec)
        op = make_op("IteratorGetNext", [], {"output_types": tuple(s.dtype for s in specs),
                                             "output_shapes": tuple(s.shape for s in specs)},
                     name=name or "IteratorGetNext", n_outputs=len(specs),
                     output_shapes=[s.shape for s in specs], graph=get_default_graph())
        host_fed.attach(op, _NextElement(self, weakref.ref(op), [s.dtype is structure.string for s in specs]))
        return nest.pack_sequence_as(self._spec, list(op.outputs))

    def string_handle(self, name=None):
        raise errors.unimplemented("Iterator.string_handle")


def make_one_shot_iterator(dataset: Dataset):
    """An iterator that starts on `dataset` at the first get_next of each Session; no initializer.
    Executing eagerly, as in TF, it is `iter(dataset)` (whose get_next() gives eager tensors)."""
    if eager_bridge.executing_eagerly():
        return iter(dataset)
    return Iterator(dataset.element_spec, one_shot=dataset)


def make_initializable_iterator(dataset: Dataset, shared_name: str | None = None) -> Iterator:
    if eager_bridge.executing_eagerly():
        raise RuntimeError("dataset.make_initializable_iterator is not supported when eager execution is "
                           "enabled. Use `for element in dataset` instead.")
    return Iterator(dataset.element_spec, initial=dataset, shared_name=shared_name)


def get_output_types(dataset_or_iterator):
    return dataset_or_iterator.output_types


def get_output_shapes(dataset_or_iterator):
    return dataset_or_iterator.output_shapes


__all__ = ["Iterator", "make_one_shot_iterator", "make_initializable_iterator", "get_output_types",
           "get_output_shapes"]
