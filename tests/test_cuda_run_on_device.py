"""CudaExecutable.run_on_device on the CPU emulator: a run's binding and device work with no download,
read-only feeds uploaded once, Variables updated in place (what `xlite bench`'s cuda-device system times)."""
import shutil

import numpy as np
import pytest

import xlite as tf
from xlite.codegen.cuda.executable import DeviceArray

pytestmark = pytest.mark.skipif(shutil.which("g++") is None and shutil.which("clang++") is None,
                                reason="the cuda emulator needs a C++ compiler")


def _last_executable(sess):
    """The executable the Session compiled last (its cache keeps them in order)."""
    return list(sess._cache.values())[-1][1]


def _frozen(array):
    array = np.array(array)
    array.flags.writeable = False
    return array


def _result_buffer(exe) -> np.ndarray:
    """The device buffer the program computes its one fetch into, read without running anything."""
    (o,) = exe.program.outputs
    assert o.kind == "buffer"
    host = np.empty(o.dims, np.float32)
    exe.driver.memcpy_dtoh(host, exe._where(o.loc)[1])
    return host


@pytest.mark.slow
def test_read_only_feed_uploaded_once_and_nothing_downloaded(emulated):
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [300], name="x")
        y = tf.tanh(x * 0.5) + 1.0
    first, second = (_frozen(np.linspace(-3, 3, 300, dtype=np.float32) * k) for k in (1, 2))
    want = {id(a): np.tanh(a * 0.5) + 1.0 for a in (first, second)}
    with tf.Session(target="cuda", graph=g) as sess:
        sess.run(y, {x: first})
        exe = _last_executable(sess)
        for feed in (first, second):
            stats = dict(emulated.stats)
            exe.run_on_device([feed])                 # another object than the Session's copy: uploaded
            assert emulated.stats["htod_bytes"] - stats["htod_bytes"] == feed.nbytes
            np.testing.assert_allclose(_result_buffer(exe), want[id(feed)], rtol=1e-5, atol=1e-6)
            stats = dict(emulated.stats)
            exe.run_on_device([feed])                 # the same read-only object: nothing moves
            assert emulated.stats == stats
            got = exe.run([feed])                     # run after it: the fetch, and only it, comes back
            assert emulated.stats["htod"] == stats["htod"] and emulated.stats["dtoh_bytes"] - stats["dtoh_bytes"] == feed.nbytes
            np.testing.assert_allclose(got[0], want[id(feed)], rtol=1e-5, atol=1e-6)
        writeable = np.array(first)
        stats = dict(emulated.stats)
        exe.run_on_device([writeable])
        exe.run_on_device([writeable])                # a writeable array may have changed: uploaded each time
        assert emulated.stats["htod_bytes"] - stats["htod_bytes"] == 2 * writeable.nbytes
        with pytest.raises(ValueError, match="expected 1 arguments"):
            exe.run_on_device([])


def _regression():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [8, 3], name="x")
        t = tf.placeholder(tf.float32, [8], name="t")
        w = tf.Variable(np.array([0.5, -1.0, 2.0], np.float32))
        b = tf.Variable(np.float32(0.25))
        loss = tf.reduce_mean(tf.square(tf.reduce_sum(x * w, 1) + b - t))
        step = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
        init = tf.global_variables_initializer()
    rng = np.random.default_rng(0)
    feeds = {x: rng.standard_normal((8, 3)).astype(np.float32), t: rng.standard_normal(8).astype(np.float32)}
    return g, feeds, loss, step, init, [w, b]


@pytest.mark.slow
def test_training_step_updates_variables_in_place(emulated):
    g, feeds, loss, step, init, variables = _regression()
    with tf.Session(target="interpreter", graph=g) as ref:
        ref.run(init)
        expected = []
        for _ in range(4):
            ref.run(step, feeds)
            expected.append(ref.run(variables))
    with tf.Session(target="cuda", graph=g) as sess:
        sess.run(init)
        sess.run([loss, step], feeds)
        exe = _last_executable(sess)
        args, real = [], exe.run
        exe.run = lambda a: args.append(list(a)) or real(a)     # the Session's arguments of one step
        try:        # (given options, the run takes the careful path, which looks `run` up each time)
            sess.run([loss, step], feeds, options=tf.RunOptions())
        finally:
            del exe.run
        held = list(sess._variables.values())
        device_args = [a for a in args[0] if isinstance(a, DeviceArray)]
        assert len(device_args) == 2 and all(any(a is h for h in held) for a in device_args)
        stats = dict(emulated.stats)
        exe.run_on_device(args[0])
        exe.run_on_device(args[0])
        assert emulated.stats["dtoh"] == stats["dtoh"]            # nothing downloaded, not even the loss
        for got, want in zip(sess.run(variables), expected[3]):  # 2 Session steps, 2 on the device
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
        assert all(a is b for a, b in zip(sess._variables.values(), held))
        numpy_vars = [np.array(a) if isinstance(a, DeviceArray) else a for a in args[0]]
        with pytest.raises(ValueError, match="must be DeviceArrays"):
            exe.run_on_device(numpy_vars)
