"""`xlite compile` on TensorFlow's files, like tfcompile's --graph: a frozen GraphDef (binary or text) and a
SavedModel signature give the same artifacts as a script; the C program's outputs match TF's numbers
(fixtures TF wrote: tests/io/fixtures/tf_saved_model*) and xlite's own Session's."""
import os

import numpy as np
import pytest

import xlite as tf
import xlite.aot
from aot_harness import build_runner, needs_cc, run_runner
from xlite.cli import main

FIXTURES = os.path.join(os.path.dirname(__file__), os.pardir, "io", "fixtures")
TF_OUT = np.load(os.path.join(FIXTURES, "tf_saved_model.npz"))


def _artifacts(out, name):
    """The Artifacts of a CLI compile, its Signature rebuilt from the JSON the object embeds (read via the .so)."""
    from xlite.aot.compiler import Artifacts
    from xlite.aot.signature import Signature, TensorSpec
    d = xlite.aot.load(str(out / f"{name}.so")).signature

    def specs(items):
        return [TensorSpec(t["name"], t["kind"], t["dtype"], tuple(t["shape"]), t["c_name"]) for t in items]
    sig = Signature(d["name"], d["variables"], d["target_cpu"], d["threads"], specs(d["args"]), specs(d["results"]),
                    d["scratch_bytes"])
    return Artifacts(sig, str(out / f"{name}.o"), str(out / f"{name}.h"), str(out / f"{name}_example.c"),
                     str(out / f"{name}.so"), [])


@pytest.mark.slow
@needs_cc
def test_tensorflow_frozen_graph_compiles_and_the_c_program_matches_tensorflow(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["compile", os.path.join(FIXTURES, "tf_saved_model_frozen.pb"), "--fetch", "prob",
                 "--feed", "features:3x4", "-o", str(out), "--name", "frozen"]) == 0
    printed = capsys.readouterr().out
    assert "args[0]     features:0" in printed and "results[0]  prob:0" in printed
    art = _artifacts(out, "frozen")
    (prob,), _ = run_runner(build_runner(art, str(tmp_path)), art, [TF_OUT["x"]])
    np.testing.assert_allclose(prob, TF_OUT["prob"], rtol=1e-5, atol=1e-6)


@pytest.mark.slow
@needs_cc
def test_saved_model_signature_compiles_like_tfcompile(tmp_path, capsys):
    out = tmp_path / "sm"
    assert main(["compile", "--saved-model", os.path.join(FIXTURES, "tf_saved_model"), "--signature",
                 "serving_default", "--feed", "features:3x4", "-o", str(out), "--name", "served"]) == 0
    assert "results[0]  prob:0" in capsys.readouterr().out       # every output of the signature, by key
    (prob,) = xlite.aot.load(str(out / "served.so"))(features=TF_OUT["x"])
    np.testing.assert_allclose(prob, TF_OUT["prob"], rtol=1e-5, atol=1e-6)
    assert main(["compile", "--saved-model", os.path.join(FIXTURES, "tf_saved_model"), "--tags", "train",
                 "--signature", "logits", "--feed", "features:1x4", "-o", str(out), "--name", "logits"]) == 0
    (logits,) = xlite.aot.load(str(out / "logits.so"))(TF_OUT["x"][:1])
    np.testing.assert_allclose(logits, TF_OUT["logits"][:1], rtol=1e-5, atol=1e-5)


def _train_and_freeze(directory):
    """A small net trained a few steps by xlite, frozen with xlite's convert_variables_to_constants into a
    text GraphDef; returns its path and the trained Session's outputs on an input."""
    rng = np.random.default_rng(3)
    xv = rng.standard_normal((5, 6)).astype(np.float32)
    with tf.Graph().as_default() as g, tf.Session(graph=g) as sess:
        x = tf.placeholder(tf.float32, [None, 6], name="x")
        labels = tf.placeholder(tf.float32, [None, 2], name="labels")
        h = tf.layers.dense(x, 8, activation=tf.nn.relu, name="hidden")
        y = tf.identity(tf.layers.dense(h, 2, name="out"), name="y")
        loss = tf.reduce_mean(tf.square(y - labels))
        train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
        sess.run(tf.global_variables_initializer())
        for _ in range(5):
            sess.run(train, {x: xv, labels: np.ones((5, 2), np.float32)})
        want = sess.run(y, {x: xv})
        frozen = tf.graph_util.convert_variables_to_constants(sess, g.as_graph_def(), ["y"])
    path = tf.io.write_graph(frozen, str(directory), "frozen.pbtxt", as_text=True)
    return path, xv, want


@pytest.mark.slow
@needs_cc
def test_xlite_frozen_text_graph_compiles_and_the_c_program_matches_the_session(tmp_path):
    path, xv, want = _train_and_freeze(tmp_path)
    out = tmp_path / "out"
    assert main(["compile", path, "--fetch", "y:0", "--feed", "x:5x6", "-o", str(out), "--name", "trained"]) == 0
    art = _artifacts(out, "trained")
    (y,), _ = run_runner(build_runner(art, str(tmp_path)), art, [xv])
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-6)


def test_compile_explains_mistakes_with_tf_files(tmp_path, capsys):
    sm_dir = os.path.join(FIXTURES, "tf_saved_model")
    with pytest.raises(SystemExit, match="has no signature 'nope' \\(it has: serving_default\\)"):
        main(["compile", "--saved-model", sm_dir, "--signature", "nope"])
    with pytest.raises(SystemExit, match="no tensor or op named 'nope' \\(signature keys: prob\\)"):
        main(["compile", "--saved-model", sm_dir, "--fetch", "nope"])
    assert main(["compile", "--saved-model", sm_dir, "-o", str(tmp_path)]) == 2    # features is [?, 4]
    assert "give its full shape" in capsys.readouterr().err
    with tf.Graph().as_default() as g:
        tf.Variable(1.0, name="v")
        path = tf.io.write_graph(g, str(tmp_path), "unfrozen.pb", as_text=False)
    with pytest.raises(SystemExit, match="has Variables: freeze it first"):
        main(["compile", path, "--fetch", "v"])
    with pytest.raises(SystemExit, match="give a script, a frozen GraphDef"):
        main(["compile", "--fetch", "y"])


@pytest.mark.slow
@needs_cc
def test_the_compile_frozen_graph_example_runs(tmp_path):
    import subprocess
    import sys
    example = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "examples", "compile_frozen_graph.py")
    proc = subprocess.run([sys.executable, example, str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "max difference from the Session" in proc.stdout
    assert (tmp_path / "classifier.o").exists() and (tmp_path / "served.so").exists()
