"""prefetch(n): a background thread runs the stages before it and keeps up to n elements ready.

The consumer (a compiled training step asking the iterator for its next batch) then finds its
input made while the previous step ran. The thread stops when the pass ends, when the consumer
drops the iterator (re-initialization, end of a `for` loop) or when a stage raises; the error
reaches the consumer at the element where it happened.
"""
from __future__ import annotations

import queue
import threading
from typing import Iterator

from xlite.data.dataset import AUTOTUNE, Dataset

_END = object()
_AUTOTUNE_BUFFER = 4


class _Raised:
    def __init__(self, error: BaseException):
        self.error = error


class Prefetch(Dataset):
    def __init__(self, input_: Dataset, buffer_size):
        self._input = input_
        n = int(buffer_size)
        if n < 0 and n != AUTOTUNE:
            raise ValueError(f"buffer_size must be >= 0 or tf.data.AUTOTUNE, got {n}")
        self._size = _AUTOTUNE_BUFFER if n == AUTOTUNE else n
        self._spec = input_.element_spec

    def _inputs(self):
        return [self._input]

    def _cardinality(self) -> int:
        return self._input._cardinality()

    def _elements(self, env: dict) -> Iterator:
        if self._size == 0:
            yield from self._input._elements(env)
            return
        buffer: queue.Queue = queue.Queue(maxsize=self._size)
        stop = threading.Event()
        source = self._input._elements(env)

        def produce():
            try:
                for element in source:
                    if not _put(buffer, element, stop):
                        return
                _put(buffer, _END, stop)
            except BaseException as e:      # handed to the consumer, raised at its next element
                _put(buffer, _Raised(e), stop)
            finally:
                source.close()

        thread = threading.Thread(target=produce, name="xlite-data-prefetch", daemon=True)
        thread.start()
        try:
            while True:
                item = buffer.get()
                if item is _END:
                    return
                if type(item) is _Raised:
                    raise item.error
                yield item
        finally:
            stop.set()
            while thread.is_alive():        # unblock a producer waiting on a full buffer
                try:
                    buffer.get_nowait()
                except queue.Empty:
                    thread.join(0.01)


def _put(buffer: queue.Queue, item, stop: threading.Event) -> bool:
    while not stop.is_set():
        try:
            buffer.put(item, timeout=0.05)
            return True
        except queue.Full:
            continue
    return False


__all__ = ["Prefetch"]
