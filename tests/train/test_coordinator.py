"""tf.train.Coordinator: stop requests, the first reported error raised by join, clean stops, stragglers."""
import threading
import time

import pytest

import xlite as tf
from xlite import errors


@pytest.fixture(autouse=True)
def graph():
    with tf.Graph().as_default() as g:
        yield g


def test_threads_stop_together_and_join_raises_the_first_error():
    coord = tf.train.Coordinator()
    seen = []

    def worker(i):
        with coord.stop_on_exception():
            if i == 1:
                raise ValueError("boom from 1")
            while not coord.should_stop():
                time.sleep(0.001)
            seen.append(i)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    with pytest.raises(ValueError, match="boom from 1"):
        coord.join(threads, stop_grace_period_secs=5)
    assert coord.should_stop() and coord.joined
    assert sorted(seen) == [0, 2]


def test_out_of_range_is_a_clean_stop_and_clear_stop_resets():
    coord = tf.train.Coordinator()
    with coord.stop_on_exception():
        raise errors.OutOfRangeError(None, None, "input exhausted")
    assert coord.should_stop()
    coord.join([])                              # nothing to raise
    coord.clear_stop()
    assert not coord.should_stop() and not coord.joined
    coord.request_stop(RuntimeError("first"))
    coord.request_stop(RuntimeError("second"))   # only the first is kept
    with pytest.raises(RuntimeError, match="first"):
        coord.raise_requested_exception()


def test_join_reports_threads_still_running():
    coord = tf.train.Coordinator()
    release = threading.Event()
    t = threading.Thread(target=release.wait, name="straggler")
    t.start()
    coord.register_thread(t)
    coord.request_stop()
    try:
        with pytest.raises(RuntimeError, match="threads still running: straggler"):
            coord.join(stop_grace_period_secs=0.01)
    finally:
        release.set()
        t.join()
    assert coord.wait_for_stop(0.0)


def test_looper_thread_calls_its_target_until_the_stop():
    coord = tf.train.Coordinator()
    calls = []

    def tick():
        calls.append(time.time())
        if len(calls) == 3:
            coord.request_stop()

    tf.train.LooperThread.loop(coord, 0.001, tick)
    coord.join(stop_grace_period_secs=5)
    assert len(calls) == 3


def test_start_queue_runners_with_a_coordinator():
    with tf.Session() as sess:
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess=sess, coord=coord)
        assert threads == []           # xlite has no queue ops: tf.data feeds its pipelines
        coord.request_stop()
        coord.join(threads)
    with pytest.raises(ValueError, match="No default session is registered"):
        tf.train.start_queue_runners()
