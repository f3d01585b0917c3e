"""example_latency's watch of a child (#18 item 3): the time and CPU at the first line that matches, the child
killed there (a training loop is never waited for), and a child that ends without one reported with its output."""
import re
import subprocess
import sys
import time

from xlite.bench import example_latency

CHILD = ("import sys, time\nprint('Saving graph to: /tmp/x', flush=True)\nt = time.process_time()\n"
         "while time.process_time() - t < 0.2:\n    pass\nprint('step 0, loss 1', flush=True)\ntime.sleep(60)\n")


def _start(code):
    t0 = time.perf_counter()
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE), t0


def test_first_matching_line_is_timed_and_the_child_killed():
    proc, t0 = _start(CHILD)
    row = example_latency._watch(proc, re.compile(r"^step 0,"), t0, timeout_s=30)
    assert row["status"] == "ok" and row["line"] == "step 0, loss 1"
    assert 0.2 <= row["wall_s"] < 30 and row["cpu_s"] >= 0.15     # the busy loop's CPU, before the sleep
    assert proc.returncode is not None


def test_a_child_that_ends_without_the_line_is_reported():
    proc, t0 = _start("import sys\nprint('hello')\nsys.exit('boom')")
    row = example_latency._watch(proc, re.compile(r"^step"), t0, timeout_s=30)
    assert row["status"].startswith("no matching line") and "hello" in row["status"] and "boom" in row["status"]
