"""Model.save(DIR) writes a SavedModel that tf.saved_model.loader.load serves and load_model(DIR) rebuilds,
weights, predictions and training config included."""
import os

import numpy as np
import pytest

import xlite as tf
from xlite import keras

L = keras.layers


@pytest.mark.slow
def test_model_save_to_a_directory_is_a_saved_model(tmp_path):
    keras.backend.clear_session()
    model = keras.Sequential([L.Dense(4, activation="relu", input_shape=(3,), name="d1"), L.Dense(2, name="d2")])
    model.compile("sgd", "mse", metrics=["mae"])
    xv = np.random.default_rng(0).standard_normal((8, 3)).astype(np.float32)
    model.fit(xv, np.ones((8, 2), np.float32), epochs=2, verbose=0)
    want = model.predict(xv)
    export = str(tmp_path / "model_dir")
    model.save(export)
    assert tf.saved_model.contains_saved_model(export)
    assert os.path.exists(os.path.join(export, "variables", "variables.index"))
    with tf.Session(graph=tf.Graph()) as sess:          # any SavedModel consumer can serve it
        meta = tf.saved_model.loader.load(sess, [tf.saved_model.SERVING], export)
        sig = meta.signature_def["serving_default"]
        (in_key,), (out_key,) = list(sig.inputs), list(sig.outputs)
        assert out_key == "d2"
        got = sess.run(sig.outputs[out_key].name, {sig.inputs[in_key].name: xv})
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    keras.backend.clear_session()
    again = keras.models.load_model(export)
    np.testing.assert_allclose(again.predict(xv), want, rtol=1e-5, atol=1e-6)
    assert again.optimizer is not None and again.loss == "mse"
    model_again_path = str(tmp_path / "model_dir")
    again.save(model_again_path)          # overwrite=True replaces the SavedModel in place
    keras.backend.clear_session()
    np.testing.assert_allclose(keras.models.load_model(model_again_path).predict(xv), want, rtol=1e-5, atol=1e-6)
