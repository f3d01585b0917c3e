"""W11 of `xlite bench`: data-parallel scaling of the W3 step (MLP 784-256-256-10, SGD) over MPI.

The global batch is 256: one process trains on all of it, then two processes (`mpiexec -n 2`) on 128 rows
each, their gradients averaged by all-reduces inside the compiled step (hvd.DistributedOptimizer: the two
big weight gradients each reduced where they were computed, the four small ones in one buffer, the
average's divide folded into the updates). Every rank computes on one thread
(XLITE_NUM_THREADS=1): one core each, as one machine each would be. Reported:

- steps/s at 1 and 2 ranks and the scaling efficiency, (steps/s at 2) / (2 x steps/s at 1): with the
  global batch fixed, two ranks would ideally take half the one-rank step;
- the all-reduce's share of the two-rank step: the time of one all-reduce of the gradients' bytes
  (1.08 MB, in one buffer) alone over the step's time; the share it is *exposed* (the step's time less
  that of the same step without the all-reduce, in the same processes: what overlap leaves), and how
  much of that is each step waiting for the slower rank (the step without all-reduce but with a barrier
  after it); and, as the host's floor, mpi4py's all-reduce of the same bytes over the step's time;
- MPI's own floor: the step without all-reduce followed by mpi4py's blocking all-reduce of the gradients'
  bytes, less the step without all-reduce, over the step's time: what the same bytes cost MPI right after a
  backward pass (caches cold, ranks a little apart), against which the exposed share is measured;
- what overlap saves: the step time with every gradient in one all-reduce after the whole backward pass
  (no overlap possible) against the step's, in the same processes;
- the overlap probe: an all-reduce of the gradients' size started before 8 independent 128x128 dots and
  waited for after them, against the same waited for before them (both compiled as written): the share of
  the all-reduce's own time that the dots hide (MPICH progresses it only inside MPI calls: the MPI_Test
  calls between the kernels);
- the all-reduce's bus bandwidth at 16 MiB and its latency (an 8-byte all-reduce), from which
  docs/distributed.md models 8 and 64 machines with the ring all-reduce's cost:
  T(p, n) = 2 (p - 1) alpha + 2 (p - 1) / p * n / B.

Target: the all-reduce costs (is exposed for) under 10% of the two-rank step.

Where a Python with Horovod and TensorFlow is named (XLITE_HOROVOD_PYTHON, else XLITE_TF_PYTHON, else this
one when it has them), the same step in Horovod + TensorFlow at 1 and 2 ranks beside it
(horovod_reference.py), launched with that environment's mpiexec when it has one; not in quick runs.
"""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from xlite.distribute.launch import mpi_missing

from .checks import _describe
from .settings import Settings
from .targets import check

GLOBAL_BATCH = 256
MAX_ALLREDUCE_SHARE = 0.10
BIG_BYTES = 16 << 20
MODEL_MACHINES = (8, 64)


def _interleaved_medians(timed: dict, calls: dict, rounds: int, barrier) -> dict:
    """name -> the median over rounds of one call's time; each round times every function in turn (after a
    barrier), so load that drifts during the run weighs on all of them alike."""
    times: dict = {name: [] for name in timed}
    for _ in range(rounds):
        for name, fn in timed.items():
            barrier()
            start = time.perf_counter()
            for _ in range(calls[name]):
                fn()
            times[name].append((time.perf_counter() - start) / calls[name])
    return {name: float(np.median(t)) for name, t in times.items()}


PROBE_DOTS = 8          # the overlap probe: an all-reduce of the gradients' size in flight over 8 small dots
PROBE_DIM = 128


def _probe_module(n: int, schedule: str) -> str:
    """IR of an all-reduce of n floats and a chain of dots, in a schedule compiled as written: "overlap" (start,
    the dots, done), "serial" (start, done, the dots), "compute" (the dots alone) or "reduce" (it alone)."""
    dot = "lhs_batch_dims={}, rhs_batch_dims={}, lhs_contracting_dims={1}, rhs_contracting_dims={0}"
    m = f"f32[{PROBE_DIM},{PROBE_DIM}]{{1,0}}"
    dots = [f"%d{k} = {m} dot(%{'a' if k == 0 else f'd{k - 1}'}, %a), {dot}" for k in range(PROBE_DOTS)]
    start = [f"%s = f32[{n}]{{0}} all_reduce_start(%g), kind=sum", f"%r = f32[{n}]{{0}} all_reduce_done(%s)"]
    body = {"overlap": start[:1] + dots + start[1:], "serial": start + dots, "compute": dots, "reduce": start}[schedule]
    results = ([f"%r"] if schedule != "compute" else []) + ([f"%d{PROBE_DOTS - 1}"] if schedule != "reduce" else [])
    shapes = ([f"f32[{n}]{{0}}"] if schedule != "compute" else []) + ([m] if schedule != "reduce" else [])
    return ("ENTRY e {\n" + f"  %g = f32[{n}]{{0}} parameter(0)\n  %a = {m} parameter(1)\n  "
            + "\n  ".join(body) + f"\n  ROOT %t = ({', '.join(shapes)}) tuple({', '.join(results)})\n}}")


def _probe_runs(n: int) -> dict:
    """name -> a function running that schedule of the overlap probe (compiled as written, through the driver)."""
    from xlite.ir.parser import parse_module
    from xlite.runtime.driver import compile as compile_module, with_naive_buffers
    g = np.ones(n, np.float32)
    a = np.full((PROBE_DIM, PROBE_DIM), 1.0 / PROBE_DIM, np.float32)
    runs = {}
    for schedule in ("overlap", "serial", "compute", "reduce"):
        executable = compile_module(with_naive_buffers(parse_module(_probe_module(n, schedule))), "cpu")
        runs[f"probe_{schedule}_s"] = lambda exe=executable: exe.run([g, a])
    return runs


def _one_bucket_step(tf, hvd, loss):
    """The SGD step with every gradient averaged in one all-reduce of their concatenation, which can start only
    once the last gradient is made: the step without overlap (as all-reduces were before #22's split), for
    comparison in the same processes."""
    opt = tf.train.GradientDescentOptimizer(0.01)
    grads = opt.compute_gradients(loss)
    flat = hvd.allreduce(tf.concat([tf.reshape(g, [-1]) for g, _ in grads], 0))
    sizes = [int(np.prod(v.shape.as_list())) for _, v in grads]
    parts = tf.split(flat, sizes)
    return opt.apply_gradients([(tf.reshape(p, v.shape), v) for p, (_, v) in zip(parts, grads)])


def child(steps: int, rounds: int) -> None:
    """In each of the processes mpiexec starts: time the W3 step with and without its all-reduce, the
    all-reduces alone (compiled, and mpi4py's of the same bytes); rank 0 prints one JSON line."""
    import xlite as tf
    import xlite.distribute.mpi as hvd
    from mpi4py import MPI
    sys.path.insert(0, os.getcwd())
    from benchmarks.workloads import mnist_batch
    hvd.init()
    size, rank = hvd.size(), hvd.rank()
    images, labels = mnist_batch(30, (784,), GLOBAL_BATCH)
    rows = slice(rank * GLOBAL_BATCH // size, (rank + 1) * GLOBAL_BATCH // size)
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(3)
        x = tf.placeholder(tf.float32, [None, 784])
        y_ = tf.placeholder(tf.float32, [None, 10])
        h = x
        for n_in, n_out, relu in ((784, 256, True), (256, 256, True), (256, 10, False)):
            h = tf.matmul(h, tf.Variable(tf.truncated_normal([n_in, n_out], stddev=0.1))) + \
                tf.Variable(tf.zeros([n_out]))
            h = tf.nn.relu(h) if relu else h
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y_, logits=h))
        train = hvd.DistributedOptimizer(tf.train.GradientDescentOptimizer(0.01)).minimize(loss)
        local = tf.train.GradientDescentOptimizer(0.01).minimize(loss)     # the same step, no all-reduce
        one_bucket = _one_bucket_step(tf, hvd, loss)
        n_params = sum(int(np.prod(v.shape.as_list())) for v in tf.trainable_variables())
        buffers = {name: tf.Variable(tf.ones([n], tf.float32)) for name, n in
                   (("gradients", n_params), ("big", BIG_BYTES // 4), ("latency", 2))}
        # assigned back in place: an all-reduce whose value nothing reads would be pruned from the run
        reduces = {name: tf.assign(v, hvd.allreduce(v)).op for name, v in buffers.items()}
        init = tf.global_variables_initializer()
        bcast = hvd.broadcast_global_variables(0)
    raw = np.ones(n_params, np.float32)
    with tf.Session(graph=graph) as sess:
        sess.run(init)
        sess.run(bcast)
        feed = {x: images[rows], y_: labels[rows]}
        for _ in range(3):
            sess.run(train, feed)
            sess.run(local, feed)
            sess.run(one_bucket, feed)
        for op in reduces.values():
            sess.run(op)
        timed = {"step_s": lambda: sess.run(train, feed), "local_step_s": lambda: sess.run(local, feed),
                 # each step waits for the slowest rank, as the all-reduce makes it: the imbalance's cost
                 "barrier_step_s": lambda: (sess.run(local, feed), MPI.COMM_WORLD.Barrier()),
                 "mpi4py_gradients_s": lambda: MPI.COMM_WORLD.Allreduce(MPI.IN_PLACE, raw),
                 "local_then_mpi4py_s": lambda: (sess.run(local, feed), MPI.COMM_WORLD.Allreduce(MPI.IN_PLACE, raw)),
                 "one_bucket_step_s": lambda: sess.run(one_bucket, feed)}
        timed.update({f"allreduce_{name}_s": (lambda op=op: sess.run(op)) for name, op in reduces.items()})
        timed.update(_probe_runs(n_params))
        calls = {name: 5 if name == "allreduce_big_s" else steps for name in timed}
        result = dict(_interleaved_medians(timed, calls, rounds, MPI.COMM_WORLD.Barrier), ranks=size,
                      gradient_bytes=4 * n_params)
    if rank == 0:
        print(json.dumps(result), flush=True)


def _launch(ranks: int, steps: int, rounds: int, timeout: float) -> dict:
    env = dict(os.environ, XLITE_NUM_THREADS="1")
    env.pop("XLITE_MPI", None)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    with tempfile.TemporaryDirectory(prefix="xlite-w11-") as cache:
        env.setdefault("XLITE_CACHE_DIR", cache)
        proc = subprocess.run(["mpiexec", "-n", str(ranks), sys.executable, "-m", "xlite.bench.distributed_workload",
                               str(steps), str(rounds)], capture_output=True, text=True, timeout=timeout, env=env,
                              cwd=root)
    if proc.returncode != 0:
        raise RuntimeError(f"mpiexec -n {ranks} exited {proc.returncode}: {proc.stderr.strip()[-400:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def horovod_python() -> str | None:
    """A Python with Horovod + TensorFlow for the reference, or None."""
    for variable in ("XLITE_HOROVOD_PYTHON", "XLITE_TF_PYTHON"):
        if os.environ.get(variable):
            return os.environ[variable]
    return sys.executable if importlib.util.find_spec("horovod") is not None else None


def _launch_horovod(python: str, ranks: int, steps: int, rounds: int, timeout: float) -> dict:
    beside = os.path.join(os.path.dirname(python), "mpiexec")
    launcher = beside if os.path.exists(beside) else "mpiexec"
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "horovod_reference.py")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run([launcher, "-n", str(ranks), python, script, str(steps), str(rounds)], capture_output=True,
                          text=True, timeout=timeout, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"Horovod + TensorFlow, {ranks} ranks, exited {proc.returncode}: "
                           f"{proc.stderr.strip()[-400:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _horovod_reference(row: dict, steps: int, rounds: int) -> None:
    """Adds Horovod + TensorFlow's steps/s, efficiency and exposed share to the row, or why they are missing."""
    python = horovod_python()
    if python is None:
        row["horovod"] = {"status": "not installed"}
        return
    try:
        one, two = (_launch_horovod(python, n, steps, rounds, 600) for n in (1, 2))
    except Exception as e:      # noqa: BLE001  (the row reports it)
        row["horovod"] = {"status": f"error: {_describe(e)}"}
        return
    row["horovod"] = {"status": "ok", "1 rank": one, "2 ranks": two,
                      "steps_per_s": {"1": 1 / one["step_s"], "2": 1 / two["step_s"]},
                      "scaling_efficiency": one["step_s"] / (2 * two["step_s"]),
                      "exposed_share": (two["step_s"] - two["local_step_s"]) / two["step_s"]}
    row["over_horovod"] = row["steps_per_s"]["2"] / row["horovod"]["steps_per_s"]["2"]


def ring_model(compute_s: float, gradient_bytes: int, bandwidth: float, latency_s: float) -> dict:
    """Step time and efficiency on p machines, each training 128 rows a step (global batch 128 p) in
    `compute_s`, then a ring all-reduce of the gradients at the measured bus bandwidth and latency."""
    model = {}
    for p in MODEL_MACHINES:
        allreduce_s = 2 * (p - 1) * latency_s + 2 * (p - 1) / p * gradient_bytes / bandwidth
        model[str(p)] = {"allreduce_s": allreduce_s, "step_s": compute_s + allreduce_s,
                         "efficiency": compute_s / (compute_s + allreduce_s)}
    return model


def run_distributed_workload(workload, target: str, with_jax: bool, settings: Settings) -> dict:
    row = {"id": workload.id, "title": workload.title, "shapes": workload.shapes, "kind": workload.kind,
           "systems": {}, "compiled": target}
    missing = mpi_missing()
    if target != "cpu" or missing:
        row["status"] = f"not run: {missing or 'W11 runs on the cpu target'}"
        row["targets"] = []
        return row
    steps, rounds = (5, 3) if settings.quick else (20, settings.rounds)
    try:
        one, two = _launch(1, steps, rounds, 600), _launch(2, steps, rounds, 600)
    except Exception as e:      # noqa: BLE001  (a row reports it)
        row["status"] = f"error: {_describe(e)}"
        row["targets"] = []
        return row
    row["systems"] = {"1 rank": dict(one, status="ok"), "2 ranks": dict(two, status="ok")}
    row["steps_per_s"] = {"1": 1 / one["step_s"], "2": 1 / two["step_s"]}
    row["scaling_efficiency"] = one["step_s"] / (2 * two["step_s"])
    row["allreduce_share"] = two["allreduce_gradients_s"] / two["step_s"]
    # what the all-reduce costs the step: its time less what overlap with the backward pass hides
    row["exposed_share"] = (two["step_s"] - two["local_step_s"]) / two["step_s"]
    # what overlap saves: the step with one all-reduce after the whole backward pass, against the step
    row["overlap_saving"] = (two["one_bucket_step_s"] - two["step_s"]) / two["one_bucket_step_s"]
    row["mpi4py_share"] = two["mpi4py_gradients_s"] / two["step_s"]
    row["mpi_floor_share"] = (two["local_then_mpi4py_s"] - two["local_step_s"]) / two["step_s"]
    # of the exposed time, what waiting for the slower rank costs (a barrier after each step without all-reduce)
    row["imbalance_share"] = (two["barrier_step_s"] - two["local_step_s"]) / two["step_s"]
    # the probe: how much of an all-reduce in flight over independent kernels their time hides
    row["probe_hidden"] = (two["probe_serial_s"] - two["probe_overlap_s"]) / two["probe_reduce_s"]
    # a ring all-reduce moves 2 (p-1)/p of the buffer through each link: the bus bandwidth of NCCL's tests
    row["bus_bandwidth_Bps"] = 2 * (2 - 1) / 2 * BIG_BYTES / two["allreduce_big_s"]
    row["latency_s"] = two["allreduce_latency_s"] / (2 * (2 - 1))
    compute_s = two["local_step_s"]     # a rank's 128 rows, without the all-reduce
    row["model"] = ring_model(compute_s, two["gradient_bytes"], row["bus_bandwidth_Bps"], row["latency_s"])
    if not settings.quick:
        _horovod_reference(row, steps, rounds)
    row["status"] = "ok"
    row["targets"] = _targets(row)
    return row


def _targets(row: dict) -> list:
    return [check(f"all-reduce costs under {MAX_ALLREDUCE_SHARE:.0%} of the 2-rank step", row.get("exposed_share"),
                  lambda r: r < MAX_ALLREDUCE_SHARE)]


def table_row(row: dict, fmt_time, fmt_ratio) -> list:
    """Steps/s at 1 and 2 ranks, the scaling efficiency and the all-reduce's share in the throughput column."""
    through = "-"
    if row.get("status") == "ok":
        sps = row["steps_per_s"]
        through = (f"{sps['1']:.0f} -> {sps['2']:.0f} steps/s, efficiency {row['scaling_efficiency']:.0%}, "
                   f"all-reduce {row['allreduce_share']:.1%} of the step alone, "
                   f"{row['exposed_share']:.1%} exposed ({row['imbalance_share']:.1%} waiting for the slower rank; "
                   f"mpi4py alone {row['mpi4py_share']:.1%}, after the step {row['mpi_floor_share']:.1%}), "
                   f"overlap saves {row['overlap_saving']:.1%}, "
                   f"{row['bus_bandwidth_Bps'] / 1e9:.1f} GB/s bus")
        hvd = row.get("horovod", {"status": "not run (quick)"})
        if hvd["status"] == "ok":
            through += (f"; Horovod+TF {hvd['steps_per_s']['1']:.0f} -> {hvd['steps_per_s']['2']:.0f} steps/s, "
                        f"efficiency {hvd['scaling_efficiency']:.0%}, {hvd['exposed_share']:.1%} exposed "
                        f"(xlite's 2 ranks {row['over_horovod']:.2f}x its steps/s)")
        else:
            through += f"; Horovod+TF {hvd['status']}"
    two = row.get("systems", {}).get("2 ranks", {})
    return [row["id"], row["title"], "-", fmt_time(two.get("step_s")), "-", "-", "-", through, "-", "-",
            row["status"]]


if __name__ == "__main__":
    child(int(sys.argv[1]), int(sys.argv[2]))
