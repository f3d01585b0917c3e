"""examples/iris_estimator.py runs unchanged: the custom model_fn and the canned DNNClassifier both reach
TF's Iris accuracy (>= 0.9 on the 30 test rows) reading the CSV through tf.data."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.slow
def test_iris_estimator_example_reaches_tfs_accuracy():
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "iris_estimator.py")],
                          capture_output=True, text=True, timeout=600, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")])})
    assert proc.returncode == 0, proc.stderr[-3000:]
    accuracies = {line.split(":")[0].strip(): float(line.split("test accuracy")[1].split()[0])
                  for line in proc.stdout.splitlines() if "test accuracy" in line}
    assert set(accuracies) == {"custom model_fn", "DNNClassifier"}, proc.stdout
    assert min(accuracies.values()) >= 0.9, proc.stdout
