"""Tiered compilation (xlite/codegen/cpu/tiers.py): a tiered signature runs -O0 code at once, its -O3
code compiles on a thread and swaps in, and only the -O3 object reaches the disk cache. The tests tier a
small module (MIN_TIER_LINES lowered to 0) so that both compiles stay cheap."""
import threading
import time

import numpy as np
import pytest

import xlite as tf
from xlite.codegen.cpu import cache, compiler, tiers
from xlite.frontend.lower import lower_run
from xlite.runtime import driver

X = np.random.RandomState(4).standard_normal((5, 37)).astype(np.float32)


def _lowered():
    """A fresh lowered Module (the pipeline optimizes a Module in place) of a small reduction graph."""
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [5, 37])
        y = tf.reduce_sum(tf.tanh(x) * 2.0 + 1.0, axis=1)
    return lower_run(graph, [y], [], {x: X.shape}).module


@pytest.fixture
def tier_everything(monkeypatch, tmp_path):
    monkeypatch.setattr(tiers, "MIN_TIER_LINES", 0)
    monkeypatch.delenv("XLITE_TIERED", raising=False)
    monkeypatch.setenv("XLITE_CACHE_DIR", str(tmp_path))      # a cold cache
    want = driver.compile(_lowered(), "interpreter").run([X])[0]
    yield want
    driver.finish_background_compiles()


def test_a_tiered_signature_runs_quick_code_then_swaps_its_o3_code_in(tier_everything):
    exe = driver.compile(_lowered(), "cpu")
    assert exe.tier is not None
    quick = exe._code
    np.testing.assert_allclose(exe.run([X])[0], tier_everything, rtol=1e-6, atol=1e-6)
    driver.finish_background_compiles()
    assert exe.tier.done and exe.tier.error is None and exe._code is not quick
    np.testing.assert_allclose(exe.run([X])[0], tier_everything, rtol=1e-6, atol=1e-6)
    hits = cache.STATS["hits"]
    again = driver.compile(_lowered(), "cpu")            # the -O3 object, filed under the lowered Module
    assert cache.STATS["hits"] == hits + 1 and again.tier is None
    assert again._code.obj == exe._code.obj
    np.testing.assert_allclose(again.run([X])[0], tier_everything, rtol=1e-6, atol=1e-6)


def test_a_failed_tier_up_keeps_the_quick_code_and_caches_nothing(tier_everything, monkeypatch):
    real = compiler.compile_to_object

    def no_o3(text, dump=None, tm=None, speed_level=3, in_parts=True, merged=False):
        if speed_level == 3:
            raise RuntimeError("LLVM failed")
        return real(text, dump=dump, tm=tm, speed_level=speed_level, in_parts=in_parts, merged=merged)

    monkeypatch.setattr(compiler, "compile_to_object", no_o3)
    exe = driver.compile(_lowered(), "cpu")
    quick = exe._code
    driver.finish_background_compiles()
    assert isinstance(exe.tier.error, RuntimeError) and exe._code is quick
    np.testing.assert_allclose(exe.run([X])[0], tier_everything, rtol=1e-6, atol=1e-6)
    misses = cache.STATS["misses"]
    monkeypatch.setenv("XLITE_TIERED", "0")
    monkeypatch.setattr(compiler, "compile_to_object", real)
    assert driver.compile(_lowered(), "cpu").tier is None
    assert cache.STATS["misses"] == misses + 1           # nothing was filed: compiled afresh


@pytest.mark.parametrize("switch", ["env", "work"])
def test_no_tier_when_switched_off_or_when_loops_do_much_work(tier_everything, monkeypatch, switch):
    if switch == "env":
        monkeypatch.setenv("XLITE_TIERED", "0")
    else:
        monkeypatch.setattr(tiers, "MAX_QUICK_WORK", 5 * 37 - 1)
    exe = driver.compile(_lowered(), "cpu")
    assert exe.tier is None
    np.testing.assert_allclose(exe.run([X])[0], tier_everything, rtol=1e-6, atol=1e-6)


def test_loop_work_counts_elementwise_and_reduced_elements_but_not_blas():
    graph = tf.Graph()
    with graph.as_default():
        a = tf.placeholder(tf.float32, [64, 32])
        b = tf.placeholder(tf.float32, [32, 16])
        product = tf.matmul(a, b)
        plain = lower_run(graph, [product], [], {a: (64, 32), b: (32, 16)}).module
        summed = lower_run(graph, [tf.reduce_sum(tf.exp(a))], [], {a: (64, 32)}).module
    assert tiers.loop_work(plain) < 64 * 32
    assert tiers.loop_work(summed) >= 2 * 64 * 32


def test_a_second_compile_during_the_tier_up_waits_for_the_o3_code(tier_everything):
    first = driver.compile(_lowered(), "cpu")
    hits = cache.STATS["hits"]
    again = driver.compile(_lowered(), "cpu")
    assert again.tier is None and cache.STATS["hits"] == hits + 1
    assert first.tier.done
    np.testing.assert_allclose(again.run([X])[0], tier_everything, rtol=1e-6, atol=1e-6)


def test_runs_on_another_thread_across_the_swap_all_give_the_result(tier_everything):
    exe = driver.compile(_lowered(), "cpu")
    results, stop = [], threading.Event()

    def loop():
        while not stop.is_set() or len(results) < 20:
            results.append(exe.run([X])[0])
            time.sleep(0.001)           # a program's loop, not a spin that starves the tier-up

    runner = threading.Thread(target=loop)
    runner.start()
    driver.finish_background_compiles()
    swapped_at = len(results)
    stop.set()
    runner.join()
    assert exe.tier.error is None and len(results) >= max(swapped_at, 20)
    for got in results:
        np.testing.assert_allclose(got, tier_everything, rtol=1e-6, atol=1e-6)


def test_a_lock_free_executable_refuses_code_that_writes_its_own_data(tier_everything, monkeypatch):
    """Calls of a one-small-result, no-arena executable skip the lock, which code with a writable section
    would need: replace_code keeps the old code then (and a tier-up caches only the -O3 object)."""
    monkeypatch.setenv("XLITE_TIERED", "0")
    exe = driver.compile(_lowered(), "cpu")
    assert exe._lock_free and exe._code.writable_bytes == 0
    again = driver.compile(_lowered(), "cpu")._code
    again.writable_bytes = 8            # as if it wrote a global of its own
    assert not exe.replace_code(again) and exe._code is not again
    again.writable_bytes = 0
    assert exe.replace_code(again) and exe._code is again
    np.testing.assert_allclose(exe.run([X])[0], tier_everything, rtol=1e-6, atol=1e-6)
