"""Canned estimators and their heads: metrics at the all-zero initial linear model and after one SGD step,
worked out by hand; TF's variable names; weights, label vocabularies, the export signatures."""
import numpy as np
import pytest

import xlite as tf

est = tf.estimator
fc = tf.feature_column
X = np.array([0.5, 1.0, -1.0, 2.0, 1.5], np.float32)
BINARY = np.array([0, 1, 1, 0, 1], np.int32)


def input_fn(y, batch_size=5, epochs=1, **features):
    return est.inputs.numpy_input_fn({"x": X, **features}, y, batch_size=batch_size, num_epochs=epochs, shuffle=False)


def test_binary_head_metrics_at_zero_logits(tmp_path):
    """No checkpoint: evaluate initializes, so every logit is 0 and every probability 0.5. The labels are
    strings, looked up in label_vocabulary (BINARY's 0 and 1)."""
    classifier = est.LinearClassifier([fc.numeric_column("x")], label_vocabulary=["no", "yes"],
                                      model_dir=str(tmp_path))
    results = classifier.evaluate(input_fn(np.array(["no", "yes"])[BINARY]))
    expected = {"accuracy": 0.4, "precision": 0.0, "recall": 0.0, "auc": 0.5, "label/mean": 0.6,
                "prediction/mean": 0.5, "accuracy_baseline": 0.6, "average_loss": np.log(2), "loss": np.log(2),
                "global_step": 0}
    assert set(expected) | {"auc_precision_recall"} == set(results)
    for key, value in expected.items():
        np.testing.assert_allclose(results[key], value, rtol=1e-5, err_msg=key)


def test_multi_class_head_at_zero_logits(tmp_path):
    classifier = est.LinearClassifier([fc.numeric_column("x")], n_classes=3, model_dir=str(tmp_path))
    results = classifier.evaluate(input_fn(np.array([0, 2, 1, 0, 0], np.int32)))
    assert set(results) == {"accuracy", "average_loss", "loss", "global_step"}
    np.testing.assert_allclose([results["accuracy"], results["average_loss"]], [0.6, np.log(3)], rtol=1e-5)
    row = next(classifier.predict(input_fn(None)))
    assert set(row) == {"logits", "probabilities", "class_ids", "all_class_ids"}
    np.testing.assert_allclose(row["probabilities"], [1 / 3] * 3, rtol=1e-6)
    assert row["class_ids"].tolist() == [0] and row["all_class_ids"].tolist() == [0, 1, 2]


def test_regression_weights_and_sum_over_batch_size(tmp_path):
    """average_loss is the weighted mean of the squared errors; loss (SUM_OVER_BATCH_SIZE) their weighted sum
    over the batch size; here at the initial prediction 0 (a LinearEstimator under a RegressionHead)."""
    y = np.array([1.0, -2.0, 0.5, 3.0, 1.0], np.float32)
    w = np.array([1.0, 0.0, 2.0, 1.0, 0.5], np.float32)
    regressor = est.LinearEstimator(est.RegressionHead(weight_column="w"), [fc.numeric_column("x")],
                                    model_dir=str(tmp_path))
    results = regressor.evaluate(input_fn(y, w=w))
    np.testing.assert_allclose(results["average_loss"], (w * y ** 2).sum() / w.sum(), rtol=1e-6)
    np.testing.assert_allclose(results["loss"], (w * y ** 2).sum() / len(y), rtol=1e-6)
    np.testing.assert_allclose(results["label/mean"], (w * y).sum() / w.sum(), rtol=1e-6)


@pytest.fixture(scope="module")
def sgd_regressor(tmp_path_factory):
    regressor = est.LinearRegressor([fc.numeric_column("x")], optimizer="SGD",
                                    model_dir=str(tmp_path_factory.mktemp("linear")))
    return regressor.train(input_fn(2 * X + 1), steps=1)


def test_linear_regressor_one_sgd_step(sgd_regressor):
    """lr = min(0.2, 1/sqrt(1 column)); d/dw mean((xw + b - y)^2) at 0 is -2 mean(xy)."""
    y = 2 * X + 1
    w, b = 0.2 * 2 * np.mean(X * y), 0.2 * 2 * np.mean(y)
    np.testing.assert_allclose(sgd_regressor.get_variable_value("linear/linear_model/x/weights"), [[w]], rtol=1e-5)
    np.testing.assert_allclose(sgd_regressor.get_variable_value("linear/linear_model/bias_weights"), [b],
                               rtol=1e-5)
    results = sgd_regressor.evaluate(input_fn(y))
    pred = X * w + b
    np.testing.assert_allclose(results["average_loss"], np.mean((pred - y) ** 2), rtol=1e-5)
    np.testing.assert_allclose(results["prediction/mean"], pred.mean(), rtol=1e-5)
    got = [row["predictions"][0] for row in sgd_regressor.predict(input_fn(None, batch_size=2))]
    np.testing.assert_allclose(got, pred, rtol=1e-5)


def test_add_metrics_joins_the_evaluation(sgd_regressor):
    y = 2 * X + 1
    w, b = 0.2 * 2 * np.mean(X * y), 0.2 * 2 * np.mean(y)
    with_mae = est.add_metrics(sgd_regressor, lambda labels, predictions: {
        "mae": tf.metrics.mean_absolute_error(labels, predictions["predictions"])})
    results = with_mae.evaluate(input_fn(y))
    np.testing.assert_allclose(results["mae"], np.abs(X * w + b - y).mean(), rtol=1e-5)
    assert {"average_loss", "label/mean", "prediction/mean", "loss", "global_step"} < set(results)


def test_canned_export_keeps_the_predict_signature(sgd_regressor, tmp_path):
    """As in TF: Regress/Classify signatures need a serialized tf.Example input, so a raw receiver keeps the
    predict signature only."""
    receiver = est.export.build_raw_serving_input_receiver_fn({"x": tf.placeholder(tf.float32, [None])})
    path = sgd_regressor.export_saved_model(str(tmp_path), receiver).decode()
    with tf.Graph().as_default(), tf.Session() as sess:
        meta = tf.saved_model.loader.load(sess, ["serve"], path)
        assert set(meta.signature_def) == {"predict"}
        signature = meta.signature_def["predict"]
        out = sess.run(signature.outputs["predictions"].name, {signature.inputs["x"].name: X[:2]})
    assert out.shape == (2, 1)
    with pytest.raises(tf.errors.UnimplementedError):
        est.export.build_parsing_serving_input_receiver_fn({})


@pytest.mark.slow
def test_dnn_and_combined_variable_names_and_training(tmp_path):
    columns = [fc.numeric_column("x")]
    dnn = est.DNNClassifier([4, 3], columns, n_classes=3, dropout=0.1, model_dir=str(tmp_path / "dnn"),
                            optimizer=tf.train.GradientDescentOptimizer(0.1),
                            config=est.RunConfig(tf_random_seed=3))
    dnn.train(input_fn(np.array([0, 1, 2, 1, 0], np.int32), epochs=None), steps=2)
    assert sorted(dnn.get_variable_names()) == [
        "dnn/hiddenlayer_0/bias", "dnn/hiddenlayer_0/kernel", "dnn/hiddenlayer_1/bias", "dnn/hiddenlayer_1/kernel",
        "dnn/logits/bias", "dnn/logits/kernel", "global_step"]
    assert dnn.get_variable_value("dnn/hiddenlayer_1/kernel").shape == (4, 3)
    wide_deep = est.DNNLinearCombinedClassifier(
        model_dir=str(tmp_path / "wd"), linear_feature_columns=columns, dnn_feature_columns=columns,
        dnn_hidden_units=[2], linear_optimizer="SGD", dnn_optimizer="SGD")
    wide_deep.train(input_fn(BINARY), steps=1)
    names = set(wide_deep.get_variable_names())
    assert {"dnn/hiddenlayer_0/kernel", "dnn/logits/kernel", "linear/linear_model/x/weights",
            "linear/linear_model/bias_weights"} <= names and wide_deep.get_variable_value("global_step") == 1
    regressor = est.DNNRegressor([3], columns, label_dimension=2, model_dir=str(tmp_path / "reg"))
    regressor.train(input_fn(np.stack([X, -X], 1)), steps=1)
    assert regressor.get_variable_value("dnn/logits/bias").shape == (2,)


def test_optimizer_names():
    from xlite.estimator.canned.optimizers import get_optimizer_instance
    assert isinstance(get_optimizer_instance("Adagrad", 0.05), tf.train.AdagradOptimizer)
    assert isinstance(get_optimizer_instance(lambda: tf.train.AdamOptimizer(0.1)), tf.train.AdamOptimizer)
    with pytest.raises(ValueError, match="Unsupported optimizer name"):
        get_optimizer_instance("Nope", 0.1)


@pytest.mark.slow
def test_linear_classifier_learns_from_string_columns(tmp_path):
    """Hash-bucket and crossed string columns: ids made on the host, their weight rows trained in the graph."""
    words = np.array(["red", "blue", "green", "red", "blue", "green"] * 4)
    sizes = np.array(["s", "l"] * 12)
    labels = ((words == "red") | (sizes == "l")).astype(np.int32)
    columns = [fc.categorical_column_with_hash_bucket("w", 50), fc.crossed_column(["w", "z"], 50),
               fc.categorical_column_with_vocabulary_list("z", ["s", "l"])]
    classifier = est.LinearClassifier(columns, model_dir=str(tmp_path), optimizer="SGD")
    fn = est.inputs.numpy_input_fn({"w": words, "z": sizes}, labels, batch_size=24, num_epochs=None, shuffle=False)
    classifier.train(fn, steps=60)
    results = classifier.evaluate(fn, steps=1)
    assert results["accuracy"] == 1.0 and results["average_loss"] < 0.3
    assert classifier.get_variable_value("linear/linear_model/w_X_z/weights").shape == (50, 1)
