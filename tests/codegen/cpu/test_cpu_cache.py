"""The on-disk cache of compiled code: hits in a fresh process, damaged entries recompiled."""
import os
import subprocess
import sys
import textwrap

import numpy as np

from cpu_check import module_from
from xlite.codegen.cpu import cache, compile_cpu

SCRIPT = textwrap.dedent("""
    import numpy as np
    import xlite as tf
    from xlite.codegen.cpu import cache
    x = tf.placeholder(tf.float32, [None, 4])
    w = tf.constant(np.arange(12, dtype=np.float32).reshape(4, 3))
    y = tf.nn.relu(tf.matmul(x, w) - 5.0)
    with tf.Session(target="cpu") as sess:
        out = sess.run(y, {x: np.ones((2, 4), np.float32)})
    print(cache.STATS["hits"], cache.STATS["misses"], out.sum())
""")


def _run_script(cache_dir):
    env = dict(os.environ, XLITE_CACHE_DIR=str(cache_dir))
    result = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    hits, misses, total = result.stdout.split()
    return int(hits), int(misses), float(total)


def test_second_process_hits_the_cache(tmp_path):
    first = _run_script(tmp_path)
    second = _run_script(tmp_path)
    assert first[:2] == (0, 1) and second[:2] == (1, 0)
    assert first[2] == second[2] == 2 * (18 + 22 + 26 - 15)


def _module():
    return module_from(lambda b, p: [b.emit("exp", (b.emit("add", (p, p)),))], [("f32", (5, 3))])


def test_in_process_recompile_hits_and_damaged_entry_is_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv("XLITE_CACHE_DIR", str(tmp_path))
    x = np.linspace(-1, 1, 15, dtype=np.float32).reshape(5, 3)
    before = dict(cache.STATS)
    want = compile_cpu(_module()).run([x])[0]
    assert compile_cpu(_module()).run([x])[0].tolist() == want.tolist()
    assert cache.STATS["hits"] == before["hits"] + 1
    (entry,) = list((tmp_path / "cpu").glob("*.xo"))
    data = bytearray(entry.read_bytes())
    for damage in (lambda d: d[: len(d) // 2], lambda d: d[:60] + bytes([d[60] ^ 0xFF]) + d[61:], lambda d: b""):
        entry.write_bytes(bytes(damage(data)))
        damaged = cache.STATS["damaged"]
        np.testing.assert_array_equal(compile_cpu(_module()).run([x])[0], want)
        assert cache.STATS["damaged"] == damaged + 1
        assert entry.read_bytes() == bytes(data)      # rewritten whole


def test_cache_can_be_turned_off(tmp_path, monkeypatch):
    monkeypatch.setenv("XLITE_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("XLITE_CACHE", "0")
    compile_cpu(_module())
    assert not (tmp_path / "cpu").exists()
