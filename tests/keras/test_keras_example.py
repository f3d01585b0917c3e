"""examples/keras_mnist.py (TF's Keras quickstart, unchanged) trains to >= 0.95 on digits-made MNIST."""
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.slow
def test_keras_mnist_example_learns_with_a_progress_bar():
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "keras_mnist.py")], capture_output=True,
                          text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    assert 'Model: "sequential"' in out and "Total params: 101,770" in out
    assert re.search(r"^45/45 \[=+\] - \d+s \d+(ms|us|s)/step - loss: \d\.\d{4} - accuracy: \d\.\d{4}$", out, re.M)
    losses = [float(v) for v in re.findall(r"epoch \d: loss ([0-9.]+)", out)]
    assert len(losses) == 5 and losses[-1] < losses[0]
    assert float(re.search(r"test accuracy: ([0-9.]+)", out).group(1)) >= 0.95
