"""tf.summary.FileWriter: Summary protos and the graph into TensorBoard event files.

Events go to `events.out.tfevents.*` record files as TF writes them (event_file.py), with the
tensorboard package's Event protos, so anything TensorBoard reads, this writes.
"""
from __future__ import annotations

import time

from xlite import tf_logging
from xlite.frontend.graph import Graph
from xlite.semantics.world import is_chief
from xlite.summary import encode
from xlite.summary.event_file import EventFileWriter
from xlite.summary.graph_def import graph_def as _graph_def


class _DiscardingWriter:
    """The event writer of a process other than rank 0 in a data-parallel world."""

    def add_event(self, event) -> None:
        pass

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


class FileWriter:
    """Writes Summary protos (or their serialized bytes), graphs and run metadata to `logdir`."""

    def __init__(self, logdir, graph=None, max_queue=10, flush_secs=120, graph_def=None,
                 filename_suffix=None, session=None):
        self._pb = encode.protos()
        # data-parallel replicas log alike: rank 0 writes the event file, the others discard their events
        self._make_writer = (lambda: EventFileWriter(str(logdir), max_queue, flush_secs, filename_suffix or "",
                                                     self._pb.event_pb2)) if is_chief() else _DiscardingWriter
        self._logdir = str(logdir)
        self._writer = self._make_writer()
        self._closed = False
        self._seen_tags: set[str] = set()
        if session is not None and graph is None:
            graph = session.graph
        if graph is not None or graph_def is not None:
            self.add_graph(graph, graph_def=graph_def)

    def get_logdir(self) -> str:
        return self._logdir

    # events -----------------------------------------------------------------------------
    def add_event(self, event) -> None:
        if self._closed:
            tf_logging.warning("Attempting to use a closed FileWriter. The operation will be a noop unless "
                               "the FileWriter is explicitly reopened.")
            return
        self._writer.add_event(event)

    def _add(self, step=None, **fields) -> None:
        event = self._pb.event_pb2.Event(wall_time=time.time(), **fields)
        if step is not None:
            event.step = int(step)
        self.add_event(event)

    def add_summary(self, summary, global_step=None) -> None:
        """`summary`: a Summary proto or its serialized bytes, as `sess.run(summary_op)` returns.

        Like TF, only the first value of each tag keeps its plugin metadata."""
        if isinstance(summary, (bytes, bytearray)):
            summary = self._pb.summary_pb2.Summary.FromString(bytes(summary))
        elif not isinstance(summary, self._pb.summary_pb2.Summary):
            raise TypeError(f"add_summary takes a Summary proto or its serialized bytes, got "
                            f"{type(summary).__name__}")
        for value in summary.value:
            if not value.HasField("metadata"):
                continue
            if value.tag in self._seen_tags:
                value.ClearField("metadata")
            else:
                self._seen_tags.add(value.tag)
        self._add(global_step, summary=summary)

    def add_graph(self, graph, global_step=None, graph_def=None) -> None:
        """Writes the GraphDef of an xlite Graph (or a GraphDef proto) for TensorBoard's graph tab."""
        if graph is not None and not isinstance(graph, Graph) and hasattr(graph, "graph"):
            tf_logging.warning("Passing a `Session` object to add_graph is deprecated; pass `sess.graph`.")
            graph = graph.graph
        if isinstance(graph, Graph):
            proto = _graph_def(graph)
        elif graph is not None and hasattr(graph, "node"):
            proto = graph
        elif graph_def is not None:
            proto = graph_def
        else:
            raise TypeError(f"add_graph takes a tf.Graph or a GraphDef, got {type(graph).__name__}")
        self._add(global_step, graph_def=proto.SerializeToString())

    def add_run_metadata(self, run_metadata, tag: str, global_step=None) -> None:
        """A tf.RunMetadata (`step_stats` stays empty until a backend reports timings), under `tag`."""
        if not hasattr(run_metadata, "SerializeToString"):
            raise TypeError("add_run_metadata takes a tf.RunMetadata")
        tagged = self._pb.event_pb2.TaggedRunMetadata(tag=tag, run_metadata=run_metadata.SerializeToString())
        self._add(global_step, tagged_run_metadata=tagged)

    def add_session_log(self, session_log, global_step=None) -> None:
        self._add(global_step, session_log=session_log)

    # lifetime ---------------------------------------------------------------------------
    def flush(self) -> None:
        if not self._closed:
            self._writer.flush()

    def close(self) -> None:
        if not self._closed:
            self._writer.close()
            self._closed = True

    def reopen(self) -> None:
        """After close(): a new event file in the same logdir."""
        if self._closed:
            self._writer = self._make_writer()
            self._closed = False

    def __enter__(self) -> "FileWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class SummaryWriter(FileWriter):
    """Deprecated spelling (tf.train.SummaryWriter) of tf.summary.FileWriter."""

    def __init__(self, *args, **kwargs):
        tf_logging.warn_deprecated("tf.train.SummaryWriter", "tf.summary.FileWriter")
        super().__init__(*args, **kwargs)
