"""The examples run unchanged and learn: each prints a falling loss and reaches its test accuracy."""
import functools
import os
import re
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@functools.lru_cache(maxsize=None)      # each (example, target) runs once per test session
def run_example(name: str, target: str = "interpreter") -> str:
    env = dict(os.environ, XLITE_TARGET=target)
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "examples", name)], capture_output=True,
                          text=True, timeout=600, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def losses(output: str) -> list[float]:
    return [float(v) for v in re.findall(r"loss ([-0-9.e]+)", output)]


EXAMPLES = [("softmax_regression.py", 0.90), ("iris_dnn.py", 0.93), ("rgb_colors.py", 0.90),
            ("deep_cnn.py", 0.90)]


def accuracy_of(output: str) -> float:
    return float(re.search(r"test accuracy: ([0-9.]+)", output).group(1))


@pytest.mark.slow
@pytest.mark.parametrize("name, threshold", EXAMPLES)
def test_example_learns(name, threshold):
    out = run_example(name, "cpu")
    curve = losses(out)
    assert len(curve) >= 3 and curve[-1] < curve[0], out
    assert accuracy_of(out) >= threshold, out


# deep_cnn.py takes 20 s on the interpreter: its conv step is compared with the interpreter's in
# test_bench.py::test_cnn_step_agrees_with_interpreter (W5) and on the cuda emulator instead.
@pytest.mark.slow
@pytest.mark.parametrize("name, threshold", [e for e in EXAMPLES if e[0] != "deep_cnn.py"])
def test_example_compiled_matches_interpreter(name, threshold):
    """The same program on the cpu target: the same loss curve (to float32 rounding drift) and accuracy."""
    reference, compiled = run_example(name, "interpreter"), run_example(name, "cpu")
    np.testing.assert_allclose(losses(compiled), losses(reference), rtol=0.05, atol=1e-3)
    assert abs(accuracy_of(compiled) - accuracy_of(reference)) <= 0.02
    assert accuracy_of(compiled) >= threshold
