"""Ctrl-C (SIGINT) stops a compiled run with KeyboardInterrupt, and the Session stays usable.

The run executes in a subprocess that the test interrupts; a generous timeout makes a run that ignores
the signal fail the test instead of hanging it.
"""
import os
import queue
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

SCRIPT = textwrap.dedent("""
    import sys
    import xlite as tf
    n = tf.placeholder(tf.int64, [])
    loop = tf.while_loop(lambda i: i < n, lambda i: i + 1, [tf.constant(0, tf.int64)])
    with tf.Session(sys.argv[1]) as s:
        s.run(loop, {n: 10})
        print("started", flush=True)
        try:
            s.run(loop, {n: 2**62})
        except KeyboardInterrupt:
            print("interrupted", flush=True)
        print(s.run(loop, {n: 12}), s.run(loop * 2, {n: 3}), flush=True)
        s.run(loop, {n: 2**62})         # interrupted again: the KeyboardInterrupt ends the program
""")


def _lines(stream) -> queue.Queue:
    """The stream's lines as they come, read by a thread (so that waiting for one can time out)."""
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line.strip()) for line in stream], daemon=True).start()
    return lines


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="sends SIGINT")
def test_sigint_interrupts_a_compiled_loop(tmp_path):
    script = tmp_path / "endless.py"
    script.write_text(SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script), "cpu"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=dict(os.environ))
    lines = _lines(proc.stdout)
    try:
        assert lines.get(timeout=120) == "started"
        time.sleep(0.5)                             # into the endless run
        proc.send_signal(signal.SIGINT)
        assert lines.get(timeout=20) == "interrupted"
        assert lines.get(timeout=60).split() == ["12", "6"]
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)
        err = proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode != 0
    assert err.rstrip().endswith("KeyboardInterrupt"), err
