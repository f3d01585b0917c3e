"""W9 of `xlite bench` (xlite/bench/data_workload.py): its pipeline's batches, its row and targets."""
import numpy as np
import pytest

import xlite as tf
from xlite.eager.context import eager_mode
from xlite.bench.data_workload import _targets, table_row
from xlite.bench.report import _fmt_ratio, fmt_time
from xlite.bench.settings import WORKLOAD_IDS, load_workloads


@pytest.mark.slow
def test_w9_pipeline_batches_are_normalized_images_and_one_hot_labels():
    program = load_workloads().WORKLOADS["W9"].build()
    program.images, program.labels = program.images[:300], program.labels[:300]
    with eager_mode():      # Python iteration over a dataset, as in TF, executes eagerly
        batches = list(program.pipeline(tf.data).as_numpy_iterator())
    assert [len(x) for x, _ in batches] == [128, 128, 44]
    x, y = np.concatenate([b[0] for b in batches]), np.concatenate([b[1] for b in batches])
    order = np.argmax(y, 1)                                   # shuffled: match each row to its source image
    want = program.images.reshape(300, 784) / np.float32(255.0)
    index = {row.tobytes(): i for i, row in enumerate(want.astype(np.float32))}
    rows = [index[r.tobytes()] for r in x]
    assert sorted(rows) == list(range(300))
    np.testing.assert_array_equal(order, program.labels[rows])
    assert "W9" in WORKLOAD_IDS


def test_w9_row_and_targets():
    row = {"id": "W9", "title": "t", "kind": "data", "status": "ok",
           "systems": {"get_next": {"status": "ok", "time_s": 2.0}, "feed_dict": {"status": "ok", "time_s": 1.9},
                       "pipeline": {"status": "ok", "time_s": 1.0}},
           "steps_per_s": {"get_next": 234.5, "feed_dict": 246.8}, "get_next_over_feed_dict": 0.95,
           "pipeline_over_tf_data": None}
    assert [t["met"] for t in _targets(row)] == [True, None]
    line = table_row(row, fmt_time, _fmt_ratio)
    assert "234 steps/s (feed_dict 247, 0.95x)" in line[7] and "tf.data not installed" in line[7]
    row.update(get_next_over_feed_dict=0.8, pipeline_over_tf_data=0.5)
    assert [t["met"] for t in _targets(row)] == [False, True]
