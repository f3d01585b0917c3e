"""tf.summary: summary ops whose values are Summary protos, and FileWriter for TensorBoard.

Building summary ops needs nothing extra; fetching their values and writing event files
use the tensorboard package's protocol buffers (`pip install 'xlite[tensorboard]'`).
`tf.summary.Summary`, `Event`, `HistogramProto`, `SummaryMetadata` and `SessionLog` are
those protos, loaded on first use.
"""
from __future__ import annotations

from xlite.summary.summary_ops import histogram, image, merge, merge_all, scalar, string, text

__all__ = ["scalar", "histogram", "image", "text", "merge", "merge_all", "FileWriter", "FileWriterCache"]

_PROTOS = {"Summary": "summary_pb2", "SummaryDescription": "summary_pb2", "HistogramProto": "summary_pb2",
           "SummaryMetadata": "summary_pb2", "Event": "event_pb2", "SessionLog": "event_pb2",
           "TaggedRunMetadata": "event_pb2"}


def __getattr__(name):
    if name in ("FileWriter", "FileWriterCache"):     # imported on first use: they load xlite.io (#18)
        from xlite.summary import writer, writer_cache
        return writer.FileWriter if name == "FileWriter" else writer_cache.FileWriterCache
    if name in _PROTOS:
        from xlite.summary import encode
        return getattr(getattr(encode.protos(), _PROTOS[name]), name)
    raise AttributeError(f"module 'xlite.summary' has no attribute {name!r}")
