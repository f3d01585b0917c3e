"""The examples run unchanged and learn: each prints a falling loss and reaches its test accuracy."""
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_example(name: str, target: str = "interpreter") -> str:
    env = dict(os.environ, XLITE_TARGET=target)
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "examples", name)], capture_output=True,
                          text=True, timeout=600, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def losses(output: str) -> list[float]:
    return [float(v) for v in re.findall(r"loss ([-0-9.e]+)", output)]


@pytest.mark.slow
@pytest.mark.parametrize("name, threshold", [
    ("softmax_regression.py", 0.90),
    ("iris_dnn.py", 0.93),
    ("rgb_colors.py", 0.90),
    ("deep_cnn.py", 0.90),
])
def test_example_learns(name, threshold):
    out = run_example(name)
    curve = losses(out)
    assert len(curve) >= 3 and curve[-1] < curve[0], out
    accuracy = float(re.search(r"test accuracy: ([0-9.]+)", out).group(1))
    assert accuracy >= threshold, out
