"""tf.estimator.train_and_evaluate (one process): training to max_steps with an evaluation after checkpoints,
and a final one at the last step."""
import os

import numpy as np
import pytest

import xlite as tf

est = tf.estimator


def test_specs_check_their_arguments():
    with pytest.raises(TypeError):
        est.TrainSpec(input_fn=None)
    with pytest.raises(ValueError):
        est.TrainSpec(lambda: None, max_steps=0)
    with pytest.raises(ValueError):
        est.EvalSpec(lambda: None, steps=0)
    with pytest.raises(TypeError, match="train_spec"):
        est.train_and_evaluate(None, None, est.EvalSpec(lambda: None))


@pytest.mark.slow
def test_train_and_evaluate_runs_to_max_steps(tmp_path):
    x = np.linspace(-1, 1, 8).astype(np.float32)
    regressor = est.LinearRegressor([tf.feature_column.numeric_column("x")], model_dir=str(tmp_path),
                                    optimizer="SGD", config=est.RunConfig(save_checkpoints_steps=3))
    train = est.TrainSpec(est.inputs.numpy_input_fn({"x": x}, 3 * x, batch_size=4, num_epochs=None, shuffle=False),
                          max_steps=5)
    receiver = est.export.build_raw_serving_input_receiver_fn({"x": tf.placeholder(tf.float32, [None])})
    exporters = [est.FinalExporter("final", receiver), est.LatestExporter("latest", receiver, exports_to_keep=1)]
    evaluate = est.EvalSpec(est.inputs.numpy_input_fn({"x": x}, 3 * x, batch_size=8, shuffle=False), steps=None,
                            name="holdout", throttle_secs=0, exporters=exporters)
    metrics, export_results = est.train_and_evaluate(regressor, train, evaluate)
    assert metrics["global_step"] == 5 and len(export_results) == 2      # the final evaluation: both export
    assert os.path.isdir(os.path.join(str(tmp_path), "eval_holdout"))
    export_dir = os.path.join(str(tmp_path), "export")
    assert [len(os.listdir(os.path.join(export_dir, n))) for n in ("final", "latest")] == [1, 1]
    assert all(os.path.dirname(p.decode()).startswith(export_dir) for p in export_results)
    assert metrics["average_loss"] < np.mean((3 * x) ** 2)
