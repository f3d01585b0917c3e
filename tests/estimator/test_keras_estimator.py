"""tf.keras.estimator.model_to_estimator: the Estimator starts from the Keras model's weights (its predictions
before training are the model's), trains on the compiled loss and reports the compiled metrics."""
import numpy as np
import pytest

import xlite as tf

X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]] * 4, np.float32)
Y = (X[:, :1] > 0.5).astype(np.float32)


@pytest.mark.slow
def test_model_to_estimator_predicts_trains_and_evaluates(tmp_path):
    inputs = tf.keras.Input(shape=(2,), name="x")
    outputs = tf.keras.layers.Dense(1, activation="sigmoid", name="p")(inputs)
    model = tf.keras.Model(inputs, outputs)
    model.compile(optimizer=tf.keras.optimizers.SGD(0.5), loss="binary_crossentropy", metrics=["accuracy"])
    estimator = tf.keras.estimator.model_to_estimator(keras_model=model, model_dir=str(tmp_path))
    fn = tf.estimator.inputs.numpy_input_fn({"x": X}, Y, batch_size=16, num_epochs=None, shuffle=False)
    predicted = [row["p"] for row in estimator.predict(tf.estimator.inputs.numpy_input_fn(
        {"x": X[:4]}, batch_size=4, shuffle=False))]
    np.testing.assert_allclose(np.stack(predicted), model.predict(X[:4]), rtol=1e-5)
    before = estimator.evaluate(fn, steps=1)
    estimator.train(fn, steps=20)
    after = estimator.evaluate(fn, steps=1)
    assert set(after) == {"accuracy", "loss", "global_step"} and after["global_step"] == 20
    assert after["loss"] < before["loss"]


def test_model_to_estimator_needs_a_compiled_model():
    model = tf.keras.Sequential([tf.keras.layers.Dense(1, input_shape=(2,))])
    with pytest.raises(ValueError, match="compile"):
        tf.keras.estimator.model_to_estimator(keras_model=model)
    with pytest.raises(ValueError, match="Either"):
        tf.keras.estimator.model_to_estimator()
