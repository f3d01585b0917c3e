"""prefetch: a background thread keeps a bounded buffer ahead of the consumer."""
import threading
import time

import pytest

import xlite as tf
from xlite.eager.context import eager_mode

D = tf.data.Dataset


@pytest.fixture(autouse=True)
def _eagerly():
    with eager_mode():      # Python iteration over a dataset, as in TF, executes eagerly
        yield


def test_prefetch_yields_the_same_elements_on_every_pass():
    ds = D.range(50).map(lambda v: v * 2).prefetch(3)
    assert list(ds.as_numpy_iterator()) == list(range(0, 100, 2))
    assert list(ds.as_numpy_iterator()) == list(range(0, 100, 2))
    assert list(D.range(5).prefetch(tf.data.AUTOTUNE).as_numpy_iterator()) == [0, 1, 2, 3, 4]
    assert list(D.range(5).prefetch(0).as_numpy_iterator()) == [0, 1, 2, 3, 4]


def test_prefetch_works_ahead_on_another_thread_within_its_buffer():
    produced, threads = [], set()

    def gen():
        for i in range(20):
            produced.append(i)
            threads.add(threading.get_ident())
            yield i
    it = iter(D.from_generator(gen, output_types=tf.int64, output_shapes=[]).prefetch(4))
    assert int(next(it)) == 0
    deadline = time.time() + 5
    while len(produced) < 6 and time.time() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)
    assert len(produced) == 6          # the one taken, four buffered, one waiting for room
    assert threads == {t for t in threads if t != threading.get_ident()}
    it.close()


def test_an_error_before_prefetch_reaches_the_consumer_at_its_element():
    def gen():
        yield 1.0
        raise ValueError("bad input")
    it = iter(D.from_generator(gen, output_types=tf.float32, output_shapes=[]).prefetch(2))
    assert float(next(it)) == 1.0
    with pytest.raises(tf.errors.InvalidArgumentError, match="bad input"):
        next(it)


def test_dropping_an_iterator_stops_its_thread():
    before = threading.active_count()
    it = iter(D.range(10 ** 9).prefetch(2))
    next(it)
    it.close()
    assert threading.active_count() == before
