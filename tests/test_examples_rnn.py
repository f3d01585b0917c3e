"""examples/char_rnn.py and examples/sequence_classification.py run as a user runs them (on the cpu target,
a few training steps): each prints its losses and what it promises at the end."""
import math
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(name: str, *args: str) -> str:
    path = os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p)   # xlite importable uninstalled
    env = dict(os.environ, XLITE_TARGET="cpu", PYTHONPATH=path)
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "examples", name), *args], capture_output=True,
                          text=True, timeout=600, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def losses(output: str) -> list[float]:
    return [float(v) for v in re.findall(r"loss ([-0-9.e]+)", output)]


@pytest.mark.slow
def test_char_rnn_trains_and_samples():
    out = run("char_rnn.py", "--steps", "20", "--sample", "10")
    curve = losses(out)
    assert len(curve) >= 3 and all(math.isfinite(v) for v in curve), out
    assert curve[-1] < curve[0], out                     # 20 Adam steps already leave log(vocabulary)
    assert re.search(r"^sample: .{11}$", out, re.M | re.S), out


@pytest.mark.slow
def test_sequence_classification_trains_with_fed_lengths():
    out = run("sequence_classification.py", "--steps", "20")
    curve = losses(out)
    assert len(curve) >= 3 and curve[-1] < curve[0], out
    assert 0.0 <= float(re.search(r"test accuracy: ([0-9.]+)", out).group(1)) <= 1.0
