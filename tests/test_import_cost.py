"""`import xlite` stays light (#18): LLVM, SciPy and TensorBoard load when a compile, a BLAS call or a summary
needs them, and a FileWriter loads TensorBoard's protos only (not its tensorboard.summary package, whose
TensorFlow stub imports boto3). Checked in a fresh interpreter, by the modules loaded, never by time."""
import os
import subprocess
import sys

import pytest

CODE = """
import sys
import xlite as tf
print(sorted(m for m in sys.modules if m.split(".")[0] in ("llvmlite", "scipy", "tensorboard", "networkx")))
w = tf.summary.FileWriter(sys.argv[1])
w.close()
print(sorted(m for m in ("tensorboard.summary", "boto3", "llvmlite", "scipy") if m in sys.modules))
"""


@pytest.mark.slow
def test_heavy_packages_load_only_when_used(tmp_path):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p))
    out = subprocess.run([sys.executable, "-c", CODE, str(tmp_path)], capture_output=True, text=True, env=env,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    after_import, after_writer = out.stdout.strip().split("\n")[-2:]
    assert after_import == "[]"
    assert after_writer == "[]"
