"""fit's data: NumPy arrays, tf.data Datasets and Python generators, as (x, y, sample_weight) batches.

Host-only work (slicing arrays, shuffling indices, pulling the next element) is
all that happens here. For Datasets and generators a background thread pulls
the next batch while the compiled step runs (`prefetch`); a batch of in-memory
arrays is a slice, made in the loop's own thread.
"""
from __future__ import annotations

import math
import queue
import threading

import numpy as np

from xlite.frontend import nest


def _is_dataset(x) -> bool:
    from xlite.data.dataset import Dataset
    return isinstance(x, Dataset)


def _to_numpy(x):
    if x is None:
        return None
    if hasattr(x, "numpy") and not isinstance(x, np.ndarray):
        return np.asarray(x.numpy())
    return np.asarray(x)


def unpack(data) -> tuple:
    """(x, y, sample_weight) from a dataset or generator element: x, (x,), (x, y) or (x, y, w)."""
    if isinstance(data, tuple):
        if len(data) == 1:
            return data[0], None, None
        if len(data) == 2:
            return data[0], data[1], None
        if len(data) == 3:
            return data
        raise ValueError(f"Data is expected to be in format `x`, `(x,)`, `(x, y)`, or `(x, y, sample_weight)`, "
                         f"found: {data}")
    return data, None, None


def _map(fn, structure):
    return None if structure is None else nest.pack_sequence_as(structure, [fn(a) for a in nest.flatten(structure)])


def num_samples(x) -> int:
    sizes = {int(np.shape(a)[0]) for a in nest.flatten(x)}
    if len(sizes) != 1:
        raise ValueError(f"Data cardinality is ambiguous: sizes {sorted(sizes)}. Make sure all arrays contain the "
                         f"same number of samples.")
    return sizes.pop()


class ArrayData:
    """In-memory arrays cut into batches; `shuffle` permutes the samples each epoch (or within batches:
    'batch')."""

    def __init__(self, x, y=None, sample_weight=None, batch_size=None, shuffle=False, steps=None):
        self.x, self.y = _map(np.asarray, x), _map(np.asarray, y)
        self.sample_weight = None if sample_weight is None else np.asarray(sample_weight)
        self.n = num_samples(self.x)
        if self.y is not None and num_samples(self.y) != self.n:
            raise ValueError(f"Data cardinality is ambiguous:\n  x sizes: {self.n}\n  y sizes: {num_samples(self.y)}"
                             f"\nMake sure all arrays contain the same number of samples.")
        self.batch_size = 32 if batch_size is None else int(batch_size)
        self.shuffle = shuffle
        self.steps = int(steps) if steps is not None else max(1, math.ceil(self.n / self.batch_size))

    def batches(self):
        """An epoch's batches made in the caller's thread: a batch of arrays is a view (or, shuffled, one small
        gather), cheaper than handing it over from a thread."""
        return self.epoch()

    def epoch(self):
        order = np.random.permutation(self.n) if self.shuffle is True else None
        for step in range(self.steps):
            lo = (step * self.batch_size) % self.n
            idx = slice(lo, min(lo + self.batch_size, self.n)) if order is None else order[lo:lo + self.batch_size]

            def take(a, idx=idx):
                return a[idx]
            yield (_map(take, self.x), _map(take, self.y),
                   None if self.sample_weight is None else self.sample_weight[idx])


def _iterate(source):
    """A pass over a Dataset as the host gives it (in any mode: Keras feeds the batches), or iter(source)."""
    if _is_dataset(source):
        from xlite.data.dataset import host_elements
        return host_elements(source)
    return iter(source)


class IterableData:
    """A Dataset (a fresh pass each epoch, unless steps_per_epoch is given: then one iterator goes on across
    epochs, as Keras does) or a generator (always one iterator)."""

    def __init__(self, source, steps=None):
        self.source, self.steps = source, steps
        self._iterator = None
        self.is_dataset = _is_dataset(source)

    def batches(self):
        """An epoch's batches, the next one pulled from the source by a thread while the step runs."""
        return prefetch(self.epoch())

    def epoch(self):
        if self.is_dataset and self.steps is None:
            iterator = _iterate(self.source)
        else:
            if self._iterator is None:
                self._iterator = _iterate(self.source)
            iterator = self._iterator
        count = 0
        while self.steps is None or count < self.steps:
            try:
                element = next(iterator)
            except StopIteration:
                if self.steps is not None and not self.is_dataset:
                    import warnings
                    warnings.warn("Your input ran out of data; interrupting training.")
                return
            x, y, w = unpack(element)
            count += 1
            yield _map(_to_numpy, x), _map(_to_numpy, y), _to_numpy(w)


def adapt(x, y=None, sample_weight=None, batch_size=None, shuffle=False, steps=None):
    """The data handler for what fit/evaluate/predict were given."""
    if _is_dataset(x) or hasattr(x, "__next__") or (callable(getattr(x, "__iter__", None))
                                                    and not isinstance(x, (np.ndarray, list, tuple, dict))):
        if y is not None:
            raise ValueError("`y` argument is not supported when using dataset as input.")
        return IterableData(x, steps)
    return ArrayData(x, y, sample_weight, batch_size, shuffle, steps)


def split_validation(x, y, sample_weight, validation_split: float):
    """Keras' validation_split: the last fraction of the samples, taken before any shuffling."""
    n = num_samples(x)
    split = int(n * (1.0 - validation_split))
    if split == 0 or split == n:
        raise ValueError(f"Training data contains {n} samples, which is not sufficient to split it into a "
                         f"validation and training set as specified by `validation_split={validation_split}`.")

    def head(a):
        return a[:split]

    def tail(a):
        return a[split:]
    sw = np.asarray(sample_weight) if sample_weight is not None else None
    return ((_map(head, x), _map(head, y), None if sw is None else sw[:split]),
            (_map(tail, x), _map(tail, y), None if sw is None else sw[split:]))


_DONE = object()


def prefetch(batches):
    """The batches of `batches`, the next one made by a thread while the caller works on the current one."""
    q: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()

    def produce():
        try:
            for item in batches:
                while not stop.is_set():
                    try:
                        q.put(("ok", item), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(("done", None))
        except BaseException as e:   # handed to the consumer, raised there
            q.put(("error", e))

    thread = threading.Thread(target=produce, daemon=True, name="keras-prefetch")
    thread.start()
    try:
        while True:
            kind, item = q.get()
            if kind == "done":
                return
            if kind == "error":
                raise item
            yield item
    finally:
        stop.set()
