"""Traced runs (RunOptions.trace_level FULL_TRACE): what each kernel is, and its timings as TF's StepStats.

A Session run with `options.trace_level` above NO_TRACE and a `run_metadata` runs the run signature's
traced executable (`compile_traced` in xlite/runtime/driver.py, made the first time it is asked
for and kept) instead of the usual one, and fills `run_metadata.step_stats` from the KernelTrace it
returns (the record format, KernelTrace and kernel_info, is xlite/ir/trace_format.py). The usual
executable is untouched: untraced runs execute exactly the code they did before.

What times a run, per target:
- cpu: a second compilation of the same optimized Module that reads CLOCK_MONOTONIC around every
  kernel call (xlite/codegen/cpu/trace_ir.py); a kernel split over threads also gets one record per
  worker thread that ran part of it.
- interpreter: each instruction of the entry computation, timed in Python (`interpret_traced`).
- any other backend (cuda): the whole run as one event, named after the module.

StepStats follow TF's fields: one DeviceStepStats (dev_stats[0]) whose node_stats hold a
NodeExecStats per kernel call: node_name is the kernel's instruction ("fusion.3", "dot.12"),
timeline_label reads "fusion.3 = output_fusion(MatMul, add, Relu)" (TF's "name = Op(args)" form, the
args being the TF ops fused into the kernel), thread_id is 0 for the calling thread and k for the
k-th worker thread of a split kernel, and times are wall-clock microseconds (nanoseconds in the
*_nanos fields). xlite.timeline.Timeline turns them into a Chrome trace.
"""
from __future__ import annotations

import time

import numpy as np

from xlite.config import DeviceStepStats, NodeExecStats, StepStats
from xlite.ir.trace_format import KernelTrace, kernel_info

# Instructions that are buffers and plumbing, not work (as xlite.passes.fusion counts kernels).
PLUMBING = frozenset({"parameter", "constant", "tuple", "get_tuple_element", "bitcast"})
CPU_DEVICE = "/job:localhost/replica:0/task:0/device:CPU:0"
GPU_DEVICE = "/job:localhost/replica:0/task:0/device:GPU:0"


def requested(options, run_metadata) -> bool:
    """Whether Session.run should trace: a RunMetadata to fill and a trace level other than NO_TRACE."""
    return run_metadata is not None and options is not None and options.trace_level > 0


def timeline_label(info: dict) -> str:
    return f"{info['name']} = {info['kind']}({', '.join(info['ops'])})"


def monotonic_ns() -> int:
    """The clock the generated code reads (CLOCK_MONOTONIC)."""
    if hasattr(time, "clock_gettime_ns") and hasattr(time, "CLOCK_MONOTONIC"):
        return time.clock_gettime_ns(time.CLOCK_MONOTONIC)
    return time.monotonic_ns()


def step_stats(trace: KernelTrace, device: str = CPU_DEVICE) -> StepStats:
    """TF's StepStats of one traced run: a NodeExecStats per record, by start time, in wall-clock time."""
    if trace.dropped:
        from xlite import tf_logging
        tf_logging.warning(f"traced run: {trace.dropped} kernel records did not fit the trace buffer and "
                           "are left out of the step stats")
    to_wall = time.time_ns() - monotonic_ns()
    labels = [timeline_label(k) for k in trace.kernels]
    nodes = []
    for kernel, start, end, thread in sorted(trace.events.tolist(), key=lambda e: (e[1], e[3])):
        wall, dur = start + to_wall, max(end - start, 0)
        nodes.append(NodeExecStats(
            node_name=trace.kernels[kernel]["name"], all_start_micros=wall // 1000, all_start_nanos=wall,
            op_start_rel_micros=0, op_end_rel_micros=(dur + 500) // 1000, op_end_rel_nanos=dur,
            all_end_rel_micros=(dur + 500) // 1000, all_end_rel_nanos=dur, thread_id=thread,
            timeline_label=labels[kernel]))
    return StepStats(dev_stats=[DeviceStepStats(device=device, node_stats=nodes,
                                                thread_names={int(k): v for k, v in trace.thread_names.items()})])


def device_name(target: str) -> str:
    return GPU_DEVICE if target == "cuda" else CPU_DEVICE


def run_traced(executable, args: list):
    """(results, KernelTrace) of one run: the executable's own `run_traced`, or for a backend without
    per-kernel timings one event spanning the whole run."""
    traced = getattr(executable, "run_traced", None)
    if traced is not None:
        return traced(args)
    start = monotonic_ns()
    results = executable.run(args)
    end = monotonic_ns()
    module = getattr(executable, "module", None)
    instructions = module.entry.instructions if module is not None else []
    ops = list(dict.fromkeys(i.metadata.op_name for i in instructions if i.metadata.op_name))
    kind = f"{getattr(executable, 'target', 'xlite')}_executable"
    info = {"name": getattr(module, "name", "executable"), "kind": kind, "ops": ops, "shape": ""}
    return results, KernelTrace([info], np.array([[0, start, end, 0]], dtype=np.int64))


def interpret_traced(module, args: list):
    """The interpreter's traced run: every entry instruction but plumbing timed, on the calling thread
    (a while or conditional is one event, its sub-computations inside it)."""
    from xlite.semantics.eval_rules import evaluate_instruction
    comp = module.entry
    n_params = sum(1 for i in comp.instructions if i.opcode == "parameter")
    if len(args) != n_params:
        raise ValueError(f"computation %{comp.name} takes {n_params} arguments, got {len(args)}")
    env, kernels, rows = {}, [], []
    for inst in comp.instructions:
        operands = [args[inst.attrs["number"]]] if inst.opcode == "parameter" else [env[o] for o in inst.operands]
        if inst.opcode in PLUMBING:
            env[inst] = evaluate_instruction(inst, operands, module)
            continue
        start = monotonic_ns()
        env[inst] = evaluate_instruction(inst, operands, module)
        rows.append((len(kernels), start, monotonic_ns(), 0))
        kernels.append(kernel_info(inst))
    events = np.array(rows, dtype=np.int64).reshape(len(rows), 4)
    return list(env[comp.root]), KernelTrace(kernels, events, {0: "interpreter (calling thread)"})


__all__ = ["requested", "timeline_label", "step_stats", "device_name", "run_traced", "interpret_traced",
           "monotonic_ns"]
