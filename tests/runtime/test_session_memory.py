"""Memory comes back: compiling and closing many distinct graphs does not grow the process."""
import os
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent("""
    import gc, os, sys
    import numpy as np
    import xlite as tf

    def rss():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def distinct_graph(i):
        graph = tf.Graph()
        with graph.as_default():
            x = tf.placeholder(tf.float32, [None, 4])
            y = tf.nn.relu(x * float(i) + 1.0) - float(i % 7)
            with tf.Session(graph=graph, target="cpu") as sess:
                out = sess.run(y, {x: np.ones((3, 4), np.float32)})
        want = np.maximum(np.float32(i) + np.float32(1), 0) - np.float32(i % 7)
        assert np.allclose(out, want), (i, out, want)

    for i in range(50):
        distinct_graph(i)
    gc.collect()
    before = rss()
    for i in range(50, 250):
        distinct_graph(i)
    gc.collect()
    print(rss() - before)
""")


@pytest.mark.slow
def test_closing_sessions_of_200_distinct_graphs_returns_their_memory(tmp_path):
    env = dict(os.environ, XLITE_CACHE_DIR=str(tmp_path))
    result = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    growth = int(result.stdout.split()[-1])
    assert growth < 2 << 20, f"RSS grew by {growth / 2**20:.1f} MB over 200 compiled and closed graphs"
