"""xlite.timeline.Timeline: a traced run's StepStats as Chrome trace JSON (TF's tensorflow.python.client.timeline).

    run_metadata = tf.RunMetadata()
    sess.run(train_op, options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE), run_metadata=run_metadata)
    trace = timeline.Timeline(step_stats=run_metadata.step_stats)
    with open("timeline.ctf.json", "w") as f:
        f.write(trace.generate_chrome_trace_format())

The JSON ({"traceEvents": [...]}) opens in Perfetto (ui.perfetto.dev) and chrome://tracing: one
process per device, one track per thread (the calling thread, and each worker thread of kernels split
over threads), one complete event ("X", ts and dur in microseconds) per kernel call, named by the
kernel and the TF ops fused into it ("fusion.3: MatMul, add, Relu"); its args give the kernel's name,
its kind and the TF ops as a list. Unlike TF, ts counts from the step's first event, so that
nanosecond timings keep their precision in a JSON double; "otherData" holds that event's
wall-clock time (step_start_micros). Node stats come from xlite's traced runs (xlite/runtime/tracing.py)
or any StepStats with TF's fields; a timeline_label in TF's "name = Op(a, b)" form gives the op and
its arguments, anything else is shown as is.
"""
from __future__ import annotations

import json
import re

_LABEL = re.compile(r"^(.*?) = (.*?)\((.*)\)$", re.S)


def _parse_label(label: str, node_name: str) -> tuple[str, list]:
    """(op, arguments) of a "name = Op(a, b)" label; TF's ops list their inputs there, xlite's kernels
    the TF ops they compute."""
    match = _LABEL.match(label or "")
    if match is None:
        return (label or node_name), []
    args = [a.strip() for a in match.group(3).split(",") if a.strip()]
    return match.group(2), args


class Timeline:
    """A class for visualizing execution timelines of TensorFlow-style steps."""

    def __init__(self, step_stats, graph=None):
        if not hasattr(step_stats, "dev_stats"):
            raise TypeError(f"step_stats must be a StepStats (run_metadata.step_stats), got "
                            f"{type(step_stats).__name__}")
        self._step_stats = step_stats
        self._graph = graph

    def generate_chrome_trace_format(self, show_dataflow: bool = True, show_memory: bool = False) -> str:
        """The Chrome trace JSON of the step.

        show_dataflow: flow arrows from a kernel on the calling thread to the pieces of it that worker
            threads ran (kernels on one thread follow each other in order, so no arrow is drawn there,
            as in TF).
        show_memory: xlite's traces record no allocations (a run's buffers are planned at compile
            time), so this adds nothing; it is accepted for TF's signature."""
        events: list[dict] = []
        flow_id = 0
        starts = [_start_nanos(n) for dev in self._step_stats.dev_stats for n in dev.node_stats]
        origin = min(starts, default=0)
        for pid, dev in enumerate(self._step_stats.dev_stats):
            events.append({"name": "process_name", "ph": "M", "pid": pid, "args": {"name": f"{dev.device} Compute"}})
            events.append({"name": "process_sort_index", "ph": "M", "pid": pid, "args": {"sort_index": pid}})
            names = dict(dev.thread_names)
            for tid in sorted({n.thread_id for n in dev.node_stats} | set(names)):
                events.append({"name": "thread_name", "ph": "M", "pid": pid, "tid": tid,
                               "args": {"name": names.get(tid, f"thread {tid}")}})
                events.append({"name": "thread_sort_index", "ph": "M", "pid": pid, "tid": tid,
                               "args": {"sort_index": tid}})
            calls: dict = {}          # node name -> its events on thread 0, for the flows to its pieces
            for node in dev.node_stats:
                event = self._complete_event(node, pid, origin)
                events.append(event)
                if node.thread_id == 0:
                    calls.setdefault(node.node_name, []).append(event)
                elif show_dataflow:
                    call = _enclosing(calls.get(node.node_name, ()), event)
                    if call is not None:
                        flow_id += 1
                        common = {"name": node.node_name, "cat": "DataFlow", "pid": pid, "id": flow_id}
                        events.append(dict(common, ph="s", tid=call["tid"], ts=event["ts"]))
                        events.append(dict(common, ph="f", bp="e", tid=event["tid"], ts=event["ts"]))
        return json.dumps({"traceEvents": events, "displayTimeUnit": "ns",
                           "otherData": {"step_start_micros": origin / 1e3}}, separators=(",", ":"))

    @staticmethod
    def _complete_event(node, pid: int, origin: int) -> dict:
        op, args = _parse_label(node.timeline_label, node.node_name)
        ts = (_start_nanos(node) - origin) / 1e3
        if node.all_start_nanos:
            dur = (node.op_end_rel_nanos or node.all_end_rel_nanos) / 1e3
        else:
            dur = float(node.op_end_rel_micros or node.all_end_rel_micros)
        name = f"{node.node_name}: {', '.join(args)}" if args else node.node_name
        return {"ph": "X", "cat": "Op", "name": name, "pid": pid, "tid": node.thread_id, "ts": ts, "dur": dur,
                "args": {"name": node.node_name, "op": op, "tf_ops": args}}


def _start_nanos(node) -> int:
    return node.all_start_nanos or 1000 * node.all_start_micros


def _enclosing(calls, event: dict):
    """The call (an event on the calling thread) whose span holds `event`'s start, if any."""
    for call in reversed(calls):
        if call["ts"] <= event["ts"] <= call["ts"] + call["dur"]:
            return call
    return None


__all__ = ["Timeline"]
