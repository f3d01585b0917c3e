"""W9 of `xlite bench`: the W3 MLP's training step fed by a tf.data pipeline for one epoch.

The pipeline is `from_tensor_slices((x, y)).map(normalize).shuffle(1000).batch(128).prefetch(2)` over
60,000 28x28 uint8 images (benchmarks/workloads.py, build_w9). Systems, each timed an epoch at a time
after a warm-up epoch (which compiles), in interleaved rounds:

- `get_next`: the step reads `iterator.get_next()` (one executable; the Session fills the batch);
- `feed_dict`: the same steps fed NumPy batches (already normalized) through feed_dict;
- `pipeline`: the pipeline alone, iterated in Python;
- `tf.data`: TensorFlow's pipeline alone, where `tensorflow` imports.

Targets: get_next's steps/s at least 90% of feed_dict's, and the pipeline faster than TF's.
"""
from __future__ import annotations

import importlib.util
import time

from .checks import _describe
from .settings import Settings
from .targets import check
from .timing import _median

MIN_STEPS_OVER_FEED = 0.9


def run_data_workload(workload, target: str, with_jax: bool, settings: Settings) -> dict:
    row = {"id": workload.id, "title": workload.title, "shapes": workload.shapes, "kind": workload.kind,
           "systems": {}, "compiled": target}
    program = workload.build()
    systems = {}
    try:
        systems["get_next"] = program.get_next_epoch(target)
        systems["feed_dict"] = program.feed_dict_epoch(target)
        systems["pipeline"] = program.pipeline_epoch()
        if importlib.util.find_spec("tensorflow") is not None:
            systems["tf.data"] = program.tensorflow_epoch()
    except Exception as e:      # noqa: BLE001  (a row reports it)
        row["status"] = f"error: {_describe(e)}"
        row["targets"] = _targets(row)
        return row
    rounds = {name: [] for name in systems}
    for _ in range(1 if settings.quick else max(2, settings.rounds // 2)):
        for name, epoch in systems.items():
            start = time.perf_counter()
            epoch()
            rounds[name].append(time.perf_counter() - start)
    for name, times in rounds.items():
        row["systems"][name] = {"status": "ok", "time_s": _median(times), "rounds_s": times}
    steps = program.steps_per_epoch
    get_next, feed = row["systems"]["get_next"]["time_s"], row["systems"]["feed_dict"]["time_s"]
    row["steps_per_s"] = {"get_next": steps / get_next, "feed_dict": steps / feed}
    row["get_next_over_feed_dict"] = feed / get_next
    tf_data = row["systems"].get("tf.data")
    row["pipeline_over_tf_data"] = None if tf_data is None else \
        row["systems"]["pipeline"]["time_s"] / tf_data["time_s"]
    row["status"] = "ok"
    row["targets"] = _targets(row)
    return row


def _targets(row: dict) -> list:
    return [check(f"get_next steps/s >= {MIN_STEPS_OVER_FEED:g}x feed_dict's", row.get("get_next_over_feed_dict"),
                  lambda r: r >= MIN_STEPS_OVER_FEED),
            check("pipeline alone faster than tf.data's", row.get("pipeline_over_tf_data"), lambda r: r < 1.0)]


def table_row(row: dict, fmt_time, fmt_ratio) -> list:
    """The line of `xlite bench`'s table: the get_next epoch in the target's column; steps/s against
    feed_dict and the pipeline against tf.data in the throughput column."""
    sysd = row.get("systems", {})
    steps = row.get("steps_per_s") or {}
    tf_data = sysd.get("tf.data")
    through = "-"
    if steps:
        through = (f"{steps['get_next']:.0f} steps/s (feed_dict {steps['feed_dict']:.0f}, "
                   f"{fmt_ratio(row.get('get_next_over_feed_dict'))}); pipeline "
                   f"{fmt_time(sysd.get('pipeline', {}).get('time_s'))} (tf.data "
                   f"{fmt_time(tf_data.get('time_s')) if tf_data else 'not installed'})")
    return [row["id"], row["title"], "-", fmt_time(sysd.get("get_next", {}).get("time_s")), "-", "-", "-",
            through, "-", "-", row["status"]]


__all__ = ["run_data_workload", "table_row"]
