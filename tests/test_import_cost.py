"""`import xlite` stays light (#18): LLVM, SciPy and TensorBoard load when a compile, a BLAS call or a summary
needs them, and a FileWriter loads TensorBoard's protos only (not its tensorboard.summary package, whose
TensorFlow stub imports boto3). Checked in a fresh interpreter, by the modules loaded, never by time."""
import os
import subprocess
import sys

import pytest

# Packages `import xlite` leaves for first use (xlite/__init__.py _DEFERRED, tf.train's and tf.summary's too)
DEFERRED = ("xlite.keras", "xlite.estimator", "xlite.data", "xlite.function", "xlite.distribute", "xlite.strings",
            "xlite.saved_model", "xlite.io.graph_def", "xlite.train.monitored_session", "xlite.summary.writer")
CODE = """
import sys
import xlite as tf
print(sorted(m for m in sys.modules if m.split(".")[0] in ("llvmlite", "scipy", "tensorboard", "networkx")
             or m in sys.argv[2].split(",")))
w = tf.summary.FileWriter(sys.argv[1])
w.close()
print(sorted(m for m in ("tensorboard.summary", "boto3", "llvmlite", "scipy") if m in sys.modules))
"""


@pytest.mark.slow
def test_heavy_packages_load_only_when_used(tmp_path):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p))
    out = subprocess.run([sys.executable, "-c", CODE, str(tmp_path), ",".join(DEFERRED)], capture_output=True,
                         text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    after_import, after_writer = out.stdout.strip().split("\n")[-2:]
    assert after_import == "[]"
    assert after_writer == "[]"


RULES = """
import importlib, pkgutil, sys
import xlite as tf
from xlite.frontend import deferred, gradients, graph, op_registry
import xlite.function.def_function          # a deferred package imported first by name
import xlite.keras
assert tf.function is sys.modules["xlite.function.def_function"].function, tf.function   # not the package
assert callable(tf.keras.estimator.model_to_estimator)
print(tf.Graph().as_graph_def().__class__.__name__)   # the GraphDef builder loads with xlite.io on first use
deferred.load_all()
rules = (set(op_registry.registered_op_types()), set(gradients._GRAD_RULES))
for m in pkgutil.walk_packages(xlite.__path__, "xlite."):
    if not m.name.endswith("__main__"):
        try:
            importlib.import_module(m.name)
        except ImportError:          # an optional extra (pycuda, mpi4py)
            pass
missing = [sorted(set(op_registry.registered_op_types()) - rules[0]), sorted(set(gradients._GRAD_RULES) - rules[1])]
print(missing)
"""


@pytest.mark.slow
def test_deferred_packages_register_every_rule_before_one_is_missing():
    """A rule registered by a package `import xlite` defers (tf.data's iterators, tf.function's call gradient,
    string ops) is there once the frontend loads the deferred packages, as when every module is imported."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p))
    out = subprocess.run([sys.executable, "-c", RULES], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[-3:] == ["GraphDef", "[[], []]", ""]
