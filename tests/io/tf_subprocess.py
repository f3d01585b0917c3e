"""TensorFlow in a subprocess, for the live comparisons: an interpreter with TF (XLITE_TF_PYTHON, or
/tmp/tfvenv/bin/python) runs a TF 1 script; tests using it are slow and skip when none is at hand."""
import os
import subprocess
import textwrap

import numpy as np
import pytest

TF_PYTHON = os.environ.get("XLITE_TF_PYTHON", "/tmp/tfvenv/bin/python")
LIVE_TF = [pytest.mark.slow,
           pytest.mark.skipif(not os.path.exists(TF_PYTHON), reason="no Python with TensorFlow at hand")]

_PRELUDE = """
import os, sys, numpy as np, tensorflow as tf
tf1 = tf.compat.v1
tf1.disable_v2_behavior()
d = sys.argv[1]
"""


def run_tf(script: str, directory) -> None:
    """Runs `script` under TF 1 behaviour with `d` = `directory`; skips if TF does not import there."""
    out = subprocess.run([TF_PYTHON, "-c", _PRELUDE + textwrap.dedent(script), str(directory)],
                         capture_output=True, text=True, timeout=600,
                         env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""})
    if out.returncode != 0 and "No module named 'tensorflow'" in out.stderr:
        pytest.skip("TensorFlow is not importable there")
    assert out.returncode == 0, out.stderr[-3000:]


def tf_values(program: str, directory) -> list:
    """TF's values of a program text defining FETCHES and FEEDS (tf1 its module): one list per feed."""
    run_tf(program + """
s = tf1.Session()
for k, feed in enumerate(FEEDS):
    np.savez(os.path.join(d, f"tf{k}.npz"), *s.run(FETCHES, feed))
""", directory)
    out, k = [], 0
    while os.path.exists(os.path.join(directory, f"tf{k}.npz")):
        with np.load(os.path.join(directory, f"tf{k}.npz")) as saved:
            out.append([saved[f"arr_{j}"] for j in range(len(saved.files))])
        k += 1
    return out
