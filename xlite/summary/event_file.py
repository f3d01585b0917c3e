"""TensorBoard event files (`events.out.tfevents.*`) written by xlite itself: TFRecord framing around
serialized Event protos, as TF's EventsWriter writes them.

tensorboard's own EventFileWriter lives under `tensorboard.summary`, whose package import pulls in its
TensorFlow stub and, through that stub's file system layer, boto3: ~1.4 s before a FileWriter existed
(mnist_deep's first training line, #18). A record is `len` (u64), masked CRC32C of `len`, the bytes,
masked CRC32C of the bytes; only the protos come from the tensorboard package.
"""
from __future__ import annotations

import itertools
import os
import socket
import struct
import threading
import time

from xlite.io.format import crc32c

_uids = itertools.count()
_uid_lock = threading.Lock()


def record(data: bytes) -> bytes:
    """One TFRecord: the length, its masked CRC32C, the data, its masked CRC32C."""
    length = struct.pack("<Q", len(data))
    return b"".join([length, struct.pack("<I", crc32c.mask(crc32c.value(length))), data,
                     struct.pack("<I", crc32c.mask(crc32c.value(data)))])


class EventFileWriter:
    """Appends Event protos to a new event file in `logdir`; what it has written reaches the file on
    flush(), close(), every `max_queue` events or once `flush_secs` have passed since the last flush."""

    def __init__(self, logdir: str, max_queue: int = 10, flush_secs: float = 120, filename_suffix: str = "",
                 event_pb2=None):
        os.makedirs(logdir, exist_ok=True)
        with _uid_lock:
            uid = next(_uids)
        self._path = os.path.join(logdir, "events.out.tfevents.%010d.%s.%s.%s" % (
            time.time(), socket.gethostname(), os.getpid(), uid)) + filename_suffix
        self._file = open(self._path, "wb")
        self._lock = threading.Lock()
        self._max_queue, self._flush_secs = max(1, int(max_queue)), float(flush_secs)
        self._pending, self._last_flush = 0, time.monotonic()
        self.add_event(event_pb2.Event(wall_time=time.time(), file_version="brain.Event:2"))
        self.flush()

    def get_logdir(self) -> str:
        return os.path.dirname(self._path)

    def add_event(self, event) -> None:
        data = record(event.SerializeToString())
        with self._lock:
            self._file.write(data)
            self._pending += 1
            due = self._pending >= self._max_queue or time.monotonic() - self._last_flush >= self._flush_secs
        if due:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            if not self._file.closed:
                self._file.flush()
            self._pending, self._last_flush = 0, time.monotonic()

    def close(self) -> None:
        self.flush()
        with self._lock:
            self._file.close()


__all__ = ["EventFileWriter", "record"]
