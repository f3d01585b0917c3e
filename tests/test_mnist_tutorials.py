"""The three TF1 MNIST tutorial programs in examples/mnist_tutorials run on small fake data (and the
beginners' one on local IDX files), and what they write opens in TensorBoard's reader."""
import glob
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import xlite as tf
from xlite.datasets import write_idx

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TUTORIALS = os.path.join(ROOT, "examples", "mnist_tutorials")


def run_tutorial(name: str, *args: str) -> str:
    env = dict(os.environ, XLITE_TARGET=os.environ.get("XLITE_TARGET", "interpreter"))
    proc = subprocess.run([sys.executable, os.path.join(TUTORIALS, name), *args], capture_output=True, text=True,
                          timeout=600, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return proc.stdout


def event_accumulator(logdir):
    ea = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    acc = ea.EventAccumulator(logdir)
    acc.Reload()
    return acc


@pytest.mark.slow
def test_beginners_softmax_on_fake_data(tmp_path):
    """Its last step is traced (FULL_TRACE), and the Chrome trace it writes names the TF ops."""
    path = tmp_path / "timeline.ctf.json"
    out = run_tutorial("mnist_softmax.py", "--fake_data", "--steps=20", f"--timeline_file={path}")
    assert float(re.search(r"test accuracy: ([0-9.e-]+)", out).group(1)) == 1.0
    events = json.loads(path.read_text())["traceEvents"]
    ops = {op for e in events if e["ph"] == "X" for op in e["args"]["tf_ops"]}
    assert {"MatMul", "add"} <= ops and any(op.startswith("GradientDescent/") for op in ops)


@pytest.mark.slow
def test_beginners_softmax_on_local_idx_files(tmp_path):
    """Images of class k are bright in row band k: separable, so a few steps learn them."""
    rng = np.random.RandomState(0)

    def digits(n):
        labels = rng.randint(0, 10, n).astype(np.uint8)
        images = rng.randint(0, 40, (n, 28, 28)).astype(np.uint8)
        for i, k in enumerate(labels):
            images[i, 2 * k + 4:2 * k + 6, :] = 255
        return images, labels
    (train_x, train_y), (test_x, test_y) = digits(5200), digits(100)   # read_data_sets keeps 5000 for validation
    for name, array in (("train-images-idx3-ubyte.gz", train_x), ("train-labels-idx1-ubyte.gz", train_y),
                        ("t10k-images-idx3-ubyte", test_x), ("t10k-labels-idx1-ubyte", test_y)):
        write_idx(str(tmp_path / name), array, compress=name.endswith(".gz"))
    out = run_tutorial("mnist_softmax.py", f"--data_dir={tmp_path}", "--steps=30")
    assert float(re.search(r"test accuracy: ([0-9.e-]+)", out).group(1)) >= 0.9


@pytest.mark.slow
def test_beginners_softmax_without_data_says_what_to_do(tmp_path):
    proc = subprocess.run([sys.executable, os.path.join(TUTORIALS, "mnist_softmax.py"), f"--data_dir={tmp_path}"],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode != 0
    assert "train-images-idx3-ubyte.gz" in proc.stderr and "never downloads" in proc.stderr


@pytest.mark.slow
def test_deep_mnist_on_fake_data_writes_graph_and_scalars(tmp_path):
    logdir = str(tmp_path / "deep")
    out = run_tutorial("mnist_deep.py", "--fake_data", "--steps=3", "--batch_size=4", "--eval_batch_size=4",
                       "--log_every=1", f"--log_dir={logdir}")
    assert re.findall(r"step (\d+), training accuracy", out) == ["0", "1", "2"]
    assert "test accuracy" in out
    acc = event_accumulator(logdir)
    assert sorted(acc.Tags()["scalars"]) == ["cross_entropy", "training_accuracy"]
    assert [e.step for e in acc.Scalars("cross_entropy")] == [0, 1, 2]
    nodes = {n.name: n.op for n in acc.Graph().node}
    for scope in ("reshape", "conv1", "pool1", "conv2", "pool2", "fc1", "dropout", "fc2", "adam_optimizer"):
        assert any(name.startswith(scope + "/") for name in nodes), scope
    assert "Conv2D" in {op for name, op in nodes.items() if name.startswith("conv1/")}


@pytest.mark.slow
def test_mechanics_101_on_fake_data(tmp_path):
    logdir = str(tmp_path / "logs")
    os.makedirs(logdir)
    stale = os.path.join(logdir, "stale.txt")
    open(stale, "w").close()                                   # main() clears the log dir with tf.gfile
    out = run_tutorial("fully_connected_feed.py", "--fake_data", "--max_steps=120", "--batch_size=10",
                       "--eval_examples=50", "--hidden1=16", "--hidden2=8", f"--log_dir={logdir}",
                       "--learning_rate=0.1")
    assert re.findall(r"Step (\d+): loss", out) == ["0", "100"]
    assert out.count("Precision @ 1: 1.0000") == 3 and "Num examples: 50" in out
    assert not os.path.exists(stale)
    # The Saver's path-step checkpoint and its index.
    assert tf.train.latest_checkpoint(logdir) == os.path.join(logdir, "model.ckpt-119")
    with open(os.path.join(logdir, "checkpoint")) as f:
        assert f.readline().strip() == f'model_checkpoint_path: "{logdir}/model.ckpt-119"'   # as given, as TF writes
    # The checkpoint restores into the tutorial's graph.
    from xlite.examples.tutorials.mnist import mnist
    with tf.Graph().as_default():
        images = tf.placeholder(tf.float32, [None, mnist.IMAGE_PIXELS])
        labels = tf.placeholder(tf.int32, [None])
        mnist.training(mnist.loss(mnist.inference(images, 16, 8), labels), 0.1)
        with tf.Session() as sess:
            tf.train.Saver().restore(sess, tf.train.latest_checkpoint(logdir))
            step = [v for v in tf.global_variables() if v.op.name == "global_step"][0]
            assert sess.run(step) == 120
    # The loss summary at steps 0 and 100, and the graph.
    (events,) = glob.glob(os.path.join(logdir, "events.out.tfevents.*"))
    acc = event_accumulator(logdir)
    assert acc.Tags()["scalars"] == ["loss"] and [e.step for e in acc.Scalars("loss")] == [0, 100]
    names = {n.name for n in acc.Graph().node}
    assert {"hidden1/weights", "hidden2/biases", "softmax_linear/weights", "global_step"} <= names
    assert events


@pytest.mark.slow
def test_mechanics_101_help_lists_its_flags():
    proc = subprocess.run([sys.executable, os.path.join(TUTORIALS, "fully_connected_feed.py"), "--help"],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0
    assert "--learning_rate: Initial learning rate." in proc.stdout and "--[no]fake_data" in proc.stdout
