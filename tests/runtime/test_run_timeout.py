"""RunOptions.timeout_in_ms and ConfigProto.operation_timeout_in_ms stop a run (DeadlineExceededError) on
every target, and the Session stays usable afterwards (see xlite/cancellation.py).

The timed runs execute in a subprocess under a generous outer timeout, so a run that ignores its
deadline fails the test instead of hanging it; nothing here asserts how fast anything is.
"""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import xlite as tf
from xlite.cancellation import RunFlag

# A loop that would run for years, then normal runs of the same and of another signature.
SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    import xlite as tf
    target = sys.argv[1]
    n = tf.placeholder(tf.int64, [])
    v = tf.Variable(np.float64(0.0))
    def body(i):
        with tf.control_dependencies([v.assign_add(1.0)]):
            return i + 1
    loop = tf.while_loop(lambda i: i < n, body, [tf.constant(0, tf.int64)])
    x = tf.placeholder(tf.float32, [3])
    with tf.Session(target) as s:
        s.run(v.initializer)
        assert s.run(loop, {n: 10}) == 10
        try:
            s.run(loop, {n: 2**62}, options=tf.RunOptions(timeout_in_ms=200))
            print("not stopped")
        except tf.errors.DeadlineExceededError:
            print("deadline exceeded")
        s.run(v.initializer)
        assert s.run([loop, v], {n: 12}) == [12, 12.0]
        np.testing.assert_array_equal(s.run(x * 2.0, {x: np.arange(3, dtype=np.float32)}), [0.0, 2.0, 4.0])
    with tf.Session(target, config=tf.ConfigProto(operation_timeout_in_ms=200)) as s:
        s.run(v.initializer)
        assert s.run(loop, {n: 3}) == 3 and s.run(loop, {n: 4}) == 4
        try:
            s.run(loop, {n: 2**62})
            print("not stopped")
        except tf.errors.DeadlineExceededError:
            print("session deadline exceeded")
        assert s.run(loop, {n: 5}) == 5
    print("done")
""")


@pytest.mark.slow
@pytest.mark.parametrize("target", ["cpu", "interpreter", "cuda"])
def test_timeout_stops_an_endless_loop(target, tmp_path):
    script = tmp_path / "endless.py"
    script.write_text(SCRIPT)
    env = dict(os.environ)
    if target == "cuda":
        env["XLITE_CUDA_EMULATOR"] = "1"
    done = subprocess.run([sys.executable, str(script), target], capture_output=True, text=True, timeout=240,
                          env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["deadline", "exceeded", "session", "deadline", "exceeded", "done"]


def _loop_executable(session):
    """The executable of a counting loop whose body also adds to a Variable (updated in place on cpu)."""
    n = tf.placeholder(tf.int64, [])
    v = tf.Variable(np.float64(0.0))

    def body(i):
        with tf.control_dependencies([v.assign_add(1.0)]):
            return i + 1

    loop = tf.while_loop(lambda i: i < n, body, [tf.constant(0, tf.int64)])
    session.run(v.initializer)
    known = set(session._cache)
    session.run(loop, {n: 1})
    (key,) = set(session._cache) - known
    return session._cache[key][1]


@pytest.mark.parametrize("target", ["cpu", "interpreter", pytest.param("cuda", marks=pytest.mark.slow)])
def test_a_stopped_flag_ends_the_run_with_its_error(target, request):
    """A run whose flag is already set raises the flag's error; the next run of the executable is whole."""
    if target == "cuda":
        request.getfixturevalue("emulated")
    with tf.Graph().as_default(), tf.Session(target) as session:
        executable = _loop_executable(session)
        flag = RunFlag()
        flag.stop(tf.errors.DeadlineExceededError(None, None, "stopped before it began"))
        args = [np.array(2**40, np.int64), np.array(5.0)]
        with pytest.raises(tf.errors.DeadlineExceededError, match="stopped before it began"):
            executable.run(args, stop=flag)
        count, total = executable.run([np.array(7, np.int64), np.array(5.0)])[:2]
        assert int(count) == 7 and float(np.asarray(total)) == 12.0
