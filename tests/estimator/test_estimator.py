"""tf.estimator.Estimator around a model_fn: train / evaluate / predict / export on a linear model with fixed
initial values and plain SGD, checked against the same steps computed with NumPy; checkpoints, resume,
event files; TF reads the checkpoint where it is importable."""
import glob
import os
import shutil

import numpy as np
import pytest

import xlite as tf
from tests.io.tf_subprocess import LIVE_TF, run_tf

est = tf.estimator
X = np.array([[0.0, 1.0], [2.0, 1.0], [1.0, 3.0], [4.0, 0.5]], np.float32)
Y = np.array([[1.0], [2.5], [4.0], [3.0]], np.float32)
LR = 0.1


def model_fn(features, labels, mode, params):
    w = tf.get_variable("w", [2, 1], initializer=tf.constant_initializer(0.5))
    b = tf.get_variable("b", [1], initializer=tf.zeros_initializer())
    pred = tf.matmul(features["x"], w) + b
    if mode == est.ModeKeys.PREDICT:
        return est.EstimatorSpec(mode, predictions={"y": pred, "double": 2 * pred})
    loss = tf.losses.mean_squared_error(labels, pred)
    train_op = tf.train.GradientDescentOptimizer(params["lr"]).minimize(loss, global_step=tf.train.get_global_step())
    return est.EstimatorSpec(mode, loss=loss, train_op=train_op,
                             eval_metric_ops={"mae": tf.metrics.mean_absolute_error(labels, pred)})


def train_input(batch_size=2):
    return est.inputs.numpy_input_fn({"x": X}, Y, batch_size=batch_size, num_epochs=None, shuffle=False)


def eval_input():
    """A Dataset of (features dict, labels) batches: the input_fn's other form."""
    return tf.data.Dataset.from_tensor_slices(({"x": X}, Y)).batch(3)


def numpy_sgd(steps: int, w=None, b=None, start=0):
    """The model's SGD steps on the cycling batches of two rows, in NumPy."""
    w = np.full((2, 1), 0.5, np.float64) if w is None else w.copy()
    b = np.zeros(1) if b is None else b.copy()
    for step in range(start, start + steps):
        rows = slice(2 * (step % 2), 2 * (step % 2) + 2)
        x, y = X[rows].astype(np.float64), Y[rows].astype(np.float64)
        err = x @ w + b - y
        w -= LR * 2 * x.T @ err / len(x)
        b -= LR * 2 * err.mean(0)
    return w, b


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    model_dir = str(tmp_path_factory.mktemp("estimator") / "model")
    config = est.RunConfig(save_checkpoints_steps=2, keep_checkpoint_max=2, save_summary_steps=1,
                           log_step_count_steps=1)
    estimator = est.Estimator(model_fn, model_dir=model_dir, config=config, params={"lr": LR})
    estimator.train(train_input(), steps=3)
    return estimator


def test_train_runs_the_model_fn_steps(trained):
    w, b = numpy_sgd(3)
    np.testing.assert_allclose(trained.get_variable_value("w"), w, rtol=1e-5)
    np.testing.assert_allclose(trained.get_variable_value("b"), b, rtol=1e-5)
    assert trained.get_variable_value("global_step") == 3
    assert sorted(trained.get_variable_names()) == ["b", "global_step", "w"]


def test_checkpoints_keep_the_newest(trained):
    state = tf.train.get_checkpoint_state(trained.model_dir)
    assert os.path.basename(state.model_checkpoint_path) == "model.ckpt-3"
    kept = sorted(os.path.basename(p)[:-len(".index")] for p in glob.glob(os.path.join(trained.model_dir, "*.index")))
    assert kept == ["model.ckpt-2", "model.ckpt-3"]       # 0, 2, 3 saved; keep_checkpoint_max=2


def test_summaries_for_tensorboard(trained):
    from tensorboard.backend.event_processing.event_file_loader import RawEventFileLoader
    from tensorboard.compat.proto import event_pb2
    tags = set()
    for path in glob.glob(os.path.join(trained.model_dir, "events.out.tfevents.*")):
        for record in RawEventFileLoader(path).Load():
            event = event_pb2.Event.FromString(record)
            tags |= {v.tag for v in event.summary.value}
    assert {"loss", "global_step/sec"} <= tags


def test_second_train_resumes_from_the_checkpoint(trained, tmp_path):
    model_dir = str(tmp_path / "copy")
    shutil.copytree(trained.model_dir, model_dir)
    again = est.Estimator(model_fn, model_dir=model_dir, params={"lr": LR})
    again.train(train_input(), steps=2)
    assert again.get_variable_value("global_step") == 5
    w, b = numpy_sgd(2, *numpy_sgd(3))            # a new input_fn starts its data again
    np.testing.assert_allclose(again.get_variable_value("w"), w, rtol=1e-5)
    again.train(train_input(), max_steps=4)        # already past: nothing runs
    assert again.get_variable_value("global_step") == 5


def test_warm_start_copies_the_trained_variables(trained, tmp_path):
    warm = est.Estimator(model_fn, model_dir=str(tmp_path / "warm"), params={"lr": 0.0},
                         warm_start_from=trained.model_dir)
    warm.train(train_input(), steps=1)
    np.testing.assert_allclose(warm.get_variable_value("w"), trained.get_variable_value("w"))
    assert warm.get_variable_value("global_step") == 1


def test_evaluate_returns_metrics_loss_and_global_step(trained):
    w, b = numpy_sgd(3)
    results = trained.evaluate(eval_input)
    pred = X @ w + b
    batches = [slice(0, 3), slice(3, 4)]
    assert set(results) == {"mae", "loss", "global_step"}
    assert results["global_step"] == 3
    np.testing.assert_allclose(results["mae"], np.abs(pred - Y).mean(), rtol=1e-5)
    np.testing.assert_allclose(results["loss"], np.mean([((pred - Y)[s] ** 2).mean() for s in batches]), rtol=1e-5)
    assert glob.glob(os.path.join(trained.model_dir, "eval", "events.out.tfevents.*"))
    one = trained.evaluate(eval_input, steps=1, name="first")
    np.testing.assert_allclose(one["mae"], np.abs(pred - Y)[:3].mean(), rtol=1e-5)
    assert os.path.isdir(os.path.join(trained.model_dir, "eval_first")) and trained.eval_dir("first").endswith(
        "eval_first")


def test_predict_yields_examples_or_batches(trained):
    w, b = numpy_sgd(3)
    fn = est.inputs.numpy_input_fn({"x": X}, batch_size=3, shuffle=False)
    rows = list(trained.predict(fn))
    assert len(rows) == 4 and set(rows[0]) == {"y", "double"}
    np.testing.assert_allclose(np.stack([r["y"] for r in rows]), X @ w + b, rtol=1e-5)
    batches = list(trained.predict(fn, predict_keys=["y"], yield_single_examples=False))
    assert [set(bt) for bt in batches] == [{"y"}, {"y"}] and [len(bt["y"]) for bt in batches] == [3, 1]
    with pytest.raises(ValueError):
        next(trained.predict(fn, predict_keys=["nope"]))


def test_export_saved_model_serves_the_predictions(trained, tmp_path):
    receiver = est.export.build_raw_serving_input_receiver_fn({"x": tf.placeholder(tf.float32, [None, 2])})
    path = trained.export_saved_model(str(tmp_path / "export"), receiver)
    assert isinstance(path, bytes) and os.path.exists(os.path.join(path.decode(), "saved_model.pb"))
    w, b = numpy_sgd(3)
    with tf.Graph().as_default(), tf.Session() as sess:
        meta = tf.saved_model.loader.load(sess, [tf.saved_model.tag_constants.SERVING], path.decode())
        signature = meta.signature_def["serving_default"]
        out = sess.run(signature.outputs["y"].name, {signature.inputs["x"].name: X})
    np.testing.assert_allclose(out, X @ w + b, rtol=1e-5)


def test_model_fn_contract_errors(tmp_path):
    with pytest.raises(ValueError, match="features"):
        est.Estimator(lambda inputs, labels: None)
    with pytest.raises(ValueError, match="Missing train_op"):
        est.EstimatorSpec(est.ModeKeys.TRAIN, loss=tf.constant(1.0))
    with pytest.raises(ValueError, match="Missing predictions"):
        est.EstimatorSpec(est.ModeKeys.PREDICT)
    unlabeled = est.Estimator(lambda features, mode: None, model_dir=str(tmp_path))
    with pytest.raises(ValueError, match="does not take labels"):
        unlabeled.train(train_input(), steps=1)
    with pytest.raises(ValueError, match="both steps and max_steps"):
        unlabeled.train(train_input(), steps=1, max_steps=2)
    never_saves = est.Estimator(model_fn, model_dir=str(tmp_path / "n"), params={"lr": LR},
                                config=est.RunConfig(save_checkpoints_steps=None, save_checkpoints_secs=None))
    with pytest.raises(ValueError, match="CheckpointSaverHook to use saving_listeners"):
        never_saves.train(train_input(), steps=1, saving_listeners=[tf.train.CheckpointSaverListener()])


@LIVE_TF[0]
@LIVE_TF[1]
def test_tensorflow_reads_the_checkpoint(trained, tmp_path):
    np.save(tmp_path / "w.npy", trained.get_variable_value("w"))
    run_tf(f"""
        reader = tf1.train.load_checkpoint({trained.model_dir!r})
        assert reader.get_tensor("global_step") == 3, reader.get_tensor("global_step")
        np.testing.assert_allclose(reader.get_tensor("w"), np.load(os.path.join(d, "w.npy")))
        assert tf1.train.latest_checkpoint({trained.model_dir!r}).endswith("model.ckpt-3")
    """, tmp_path)
