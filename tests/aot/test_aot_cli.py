"""`xlite compile SCRIPT.py ...` builds the script's graph, restores its checkpoint and writes the artifacts;
`xlite dump-ir` (and `xlite compile --dump-dir`) show the stages of an AOT compile."""
import glob
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import xlite.aot
from aot_harness import CC
from xlite.aot.cli import parse_feed
from xlite.cli import main

SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    import xlite as tf

    x = tf.placeholder(tf.float32, [None, 784], name="x")
    y_ = tf.placeholder(tf.float32, [None, 10], name="y_")
    W = tf.Variable(tf.zeros([784, 10]), name="W")
    b = tf.Variable(tf.zeros([10]), name="b")
    y = tf.nn.softmax(tf.matmul(x, W) + b, name="probs")
    loss = tf.reduce_mean(-tf.reduce_sum(y_ * tf.log(y), axis=1), name="loss")
    train = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
    saver = tf.train.Saver()

    if __name__ == "__main__":
        rng = np.random.RandomState(0)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for _ in range(10):
                labels = rng.randint(0, 10, 16)
                sess.run(train, {x: rng.rand(16, 784).astype(np.float32), y_: np.eye(10, dtype=np.float32)[labels]})
            saver.save(sess, sys.argv[1])
            np.save(sys.argv[1] + "_W.npy", sess.run(W))
            np.save(sys.argv[1] + "_b.npy", sess.run(b))
""")

AOT_SCRIPT = textwrap.dedent("""
    import sys
    import xlite as tf
    import xlite.aot

    x = tf.placeholder(tf.float32, [2, 8], name="x")
    y = tf.nn.relu(tf.matmul(x, tf.ones([8, 4])) - 1.0, name="y")
    xlite.aot.compile(y, [x], name="tiny", out_dir=sys.argv[1])
""")


def test_parse_feed():
    assert parse_feed("images:128x784") == ("images", (128, 784))
    assert parse_feed("x:0:3x4") == ("x:0", (3, 4))
    assert parse_feed("a:scalar") == ("a", ())
    assert parse_feed("v:5") == ("v", (5,))
    assert parse_feed("x:0:") == ("x:0", ())
    assert parse_feed("x") == ("x", None)


@pytest.fixture
def trained(tmp_path):
    script = tmp_path / "softmax_regression.py"
    script.write_text(SCRIPT)
    (tmp_path / "ckpt").mkdir()   # TF's Saver does not make the parent directory
    prefix = str(tmp_path / "ckpt" / "model")
    env = dict(os.environ, XLITE_TARGET="interpreter")
    proc = subprocess.run([sys.executable, str(script), prefix], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return str(script), prefix


@pytest.mark.slow
def test_compile_restores_the_checkpoint(trained, tmp_path, capsys):
    script, prefix = trained
    out = tmp_path / "out"
    assert main(["compile", script, "--fetch", "probs", "--feed", "x:5x784", "--checkpoint",
                 os.path.dirname(prefix), "-o", str(out), "--name", "beginners"]) == 0
    printed = capsys.readouterr().out
    assert "args[0]     x:0" in printed and "results[0]  probs:0" in printed and "scratch:" in printed
    for suffix in (".o", ".h", "_example.c"):
        assert (out / f"beginners{suffix}").exists()
    if CC is None:
        return
    fn = xlite.aot.load(str(out / "beginners.so"))
    W, b = np.load(prefix + "_W.npy"), np.load(prefix + "_b.npy")
    xv = np.random.RandomState(1).rand(5, 784).astype(np.float32)
    logits = xv.astype(np.float64) @ W + b
    want = np.exp(logits - logits.max(1, keepdims=True))
    np.testing.assert_allclose(fn(x=xv)[0], want / want.sum(1, keepdims=True), rtol=1e-4, atol=1e-6)


@pytest.mark.slow
def test_compile_a_training_step_with_variables_as_arguments(trained, tmp_path, capsys):
    script, _ = trained
    out = tmp_path / "step"
    assert main(["compile", script, "--fetch", "loss", "--update", "train", "--feed", "x:4x784,y_:4x10",
                 "--variables", "args", "-o", str(out), "--name", "step", "--target-cpu", "x86-64-v3"]) == 0
    printed = capsys.readouterr().out
    rows = {line.split()[0]: line.split()[1:4] for line in printed.splitlines() if line.startswith(("args", "res"))}
    assert rows["args[2]"] == ["W", "variable", "(updated)"] and rows["args[3]"] == ["b", "variable", "(updated)"]
    header = (out / "step.h").read_text()
    assert "STEP_ARG_W 2" in header and "STEP_ARG_B 3" in header and "Target CPU: x86-64-v3" in header


def test_compile_explains_mistakes(trained, tmp_path, capsys):
    script, _ = trained
    assert main(["compile", script, "--fetch", "loss", "--update", "train", "--feed", "x:4x784,y_:4x10",
                 "-o", str(tmp_path)]) == 2
    assert "variables='args'" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="no tensor or op named 'nope'"):
        main(["compile", script, "--fetch", "nope", "-o", str(tmp_path)])


def test_dump_ir_shows_the_stages_of_an_aot_compile(tmp_path, capsys):
    script = tmp_path / "aot_script.py"
    script.write_text(AOT_SCRIPT)
    dumps = tmp_path / "dumps"
    assert main(["dump-ir", str(script), str(tmp_path / "out"), "--dump-dir", str(dumps)]) == 0
    assert "[target aot]" in capsys.readouterr().out
    names = sorted(os.path.basename(p) for p in glob.glob(str(dumps / "module_*.tiny.*")))
    for stage in ("frontend", "fusion", "buffer-assignment", "llvm-ir", "llvm-ir-optimized", "assembly"):
        assert any(f".{stage}." in n for n in names), (stage, names)
    llvm_ir = open(glob.glob(str(dumps / "*.llvm-ir.ll"))[0]).read()
    assert 'i32 @"tiny_run"(ptr' in llvm_ir
    assert (tmp_path / "out" / "tiny.o").exists()


@pytest.mark.slow
def test_compile_dump_dir(trained, tmp_path, capsys):
    script, _ = trained
    dumps = tmp_path / "dumps"
    assert main(["compile", script, "--fetch", "probs", "--feed", "x:1x784", "-o", str(tmp_path / "o"),
                 "--dump-dir", str(dumps), "--no-shared"]) == 0
    assert glob.glob(str(dumps / "*.model.*assembly.s"))
    assert not (tmp_path / "o" / "model.so").exists()
