"""tf.summary.FileWriterCache: one FileWriter per log directory, so hooks and user code writing to the same
directory share an event file instead of racing on two."""
from __future__ import annotations

import os
import threading

from xlite.frontend.graph import get_default_graph
from xlite.summary.writer import FileWriter


class FileWriterCache:
    """`get(logdir)` makes the directory's FileWriter (with the default graph) once and hands it out again."""

    _cache: dict[str, FileWriter] = {}
    _lock = threading.RLock()

    @staticmethod
    def get(logdir) -> FileWriter:
        with FileWriterCache._lock:
            key = os.path.abspath(os.fspath(logdir))
            if key not in FileWriterCache._cache:
                FileWriterCache._cache[key] = FileWriter(logdir, graph=get_default_graph())
            return FileWriterCache._cache[key]

    @staticmethod
    def clear() -> None:
        """Closes and forgets every cached writer."""
        with FileWriterCache._lock:
            for writer in FileWriterCache._cache.values():
                writer.close()
            FileWriterCache._cache.clear()
