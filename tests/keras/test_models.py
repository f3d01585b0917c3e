"""Sequential, Functional and subclassed models: structure, summary, weights, configs, checkpoints."""
import json

import numpy as np
import pytest

import xlite as tf

keras = tf.keras
L = keras.layers

# tf.keras 2.x's table for the glossary's Sequential()+add(Dense(..., input_shape=(100,))) example.
SEQUENTIAL_SUMMARY = """\
Model: "sequential"
_________________________________________________________________
Layer (type)                 Output Shape              Param #   
=================================================================
dense (Dense)                (None, 64)                6464      
_________________________________________________________________
dense_1 (Dense)              (None, 10)                650       
=================================================================
Total params: 7,114
Trainable params: 7,114
Non-trainable params: 0
_________________________________________________________________
"""


def test_sequential_add_with_input_shape_and_summary(capsys):
    model = keras.Sequential()
    model.add(L.Dense(64, activation="relu", input_shape=(100,)))
    model.add(L.Dense(10, activation="softmax"))
    model.summary()
    assert capsys.readouterr().out == SEQUENTIAL_SUMMARY
    assert model.count_params() == 7114 and model.input_shape == (None, 100) and model.output_shape == (None, 10)
    assert [l.name for l in model.layers] == ["dense", "dense_1"]
    assert model.inputs[0].op.type == "Placeholder" and model.inputs[0].op.name == "dense_input"


def test_sequential_list_and_input_and_deferred_build():
    a = keras.Sequential([keras.Input((3,)), L.Dense(2)])
    assert a.built and a.output_shape == (None, 2)
    deferred = keras.Sequential([L.Dense(4), L.Dense(1)])
    assert not deferred.built
    with pytest.raises(ValueError, match="count_params|isn't built"):
        deferred.layers[0].count_params()
    deferred.compile("sgd", "mse")
    deferred.fit(np.ones((8, 6), np.float32), np.zeros((8, 1), np.float32), verbose=0)
    assert deferred.built and deferred.count_params() == 6 * 4 + 4 + 5


def test_functional_multiple_inputs_outputs_and_get_layer():
    a, b = keras.Input((4,), name="a"), keras.Input((3,), name="b")
    h = L.Dense(5, activation="relu", name="hidden")(L.concatenate([a, b]))
    score, cls = L.Dense(1, name="score")(h), L.Dense(2, activation="softmax", name="cls")(h)
    model = keras.Model(inputs=[a, b], outputs=[score, cls])
    assert model.get_layer("hidden").name == "hidden" and model.get_layer(index=1).name == "b"
    assert model.output_names == ["score", "cls"] and model.input_names == ["a", "b"]
    with pytest.raises(ValueError, match="No such layer"):
        model.get_layer("nope")
    model.compile("adam", loss={"score": "mse", "cls": "sparse_categorical_crossentropy"},
                  metrics={"cls": "accuracy"})
    rng = np.random.default_rng(0)
    xa, xb = rng.normal(size=(16, 4)), rng.normal(size=(16, 3))
    history = model.fit([xa, xb], [rng.normal(size=(16, 1)), rng.integers(0, 2, 16)], epochs=1, verbose=0)
    assert set(history.history) == {"loss", "score_loss", "cls_loss", "cls_accuracy"}
    logs = history.history
    assert abs(logs["loss"][0] - logs["score_loss"][0] - logs["cls_loss"][0]) < 1e-5
    s, c = model.predict([xa, xb])
    assert s.shape == (16, 1) and c.shape == (16, 2)
    np.testing.assert_allclose(c.sum(1), 1, rtol=1e-5)


def test_functional_model_called_on_new_inputs_shares_weights():
    inp = keras.Input((3,))
    dense = L.Dense(2)
    model = keras.Model(inp, dense(inp))
    x = tf.placeholder(tf.float32, [None, 3])
    y = model(x)
    value = np.ones((2, 3), np.float32)
    k, b = dense.get_weights()
    np.testing.assert_allclose(keras.backend.get_session().run(y, {x: value}), value @ k + b, rtol=1e-6)
    assert len(model.weights) == 2


class _MLP(keras.Model):
    def __init__(self):
        super().__init__()
        self.hidden = L.Dense(8, activation="relu")
        self.dropout = L.Dropout(0.5)
        self.out = L.Dense(3)

    def call(self, x, training=None):
        return self.out(self.dropout(self.hidden(x), training=training))


@pytest.mark.slow
def test_subclassed_model_fit_and_training_flag():
    model = _MLP()
    model.compile(keras.optimizers.RMSprop(0.01), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 5)).astype(np.float32)
    model.fit(x, rng.integers(0, 3, 32), epochs=1, verbose=0)
    assert len(model.trainable_weights) == 4 and len(model.layers) == 3
    t = tf.constant(x)
    a, b, c = model(t), model(t), model(t, training=True)
    a, b, c = keras.backend.get_session().run([a, b, c])
    np.testing.assert_array_equal(a, b)                # inference: no dropout
    assert not np.allclose(a, c)
    np.testing.assert_allclose(model.predict(x), a, rtol=1e-5)


class Linear(keras.layers.Layer):
    def __init__(self, units=4, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight("w", shape=(input_shape[-1], self.units), initializer="random_normal")
        self.b = self.add_weight("b", shape=(self.units,), initializer="zeros")
        self.steps = self.add_weight("steps", shape=(), trainable=False, dtype="int32")

    def call(self, x):
        return tf.matmul(x, self.w) + self.b

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def test_custom_layer_add_weight_build_and_config():
    layer = Linear(4)
    y = layer(keras.Input((3,)))
    assert y.shape.as_list() == [None, 4] and layer.built
    assert [w.name for w in layer.weights] == ["linear/w:0", "linear/b:0", "linear/steps:0"]
    assert len(layer.trainable_weights) == 2 and layer.non_trainable_weights[0].dtype == tf.int32
    assert np.abs(layer.get_weights()[0]).max() < 0.5       # Keras' random_normal: stddev 0.05
    config = layer.get_config()
    assert config["units"] == 4 and config["name"] == "linear"
    clone = Linear.from_config(config)
    assert clone.units == 4


def test_get_set_weights_and_count_params():
    model = keras.Sequential([L.Dense(3, input_shape=(2,)), L.BatchNormalization(), L.Dense(1)])
    weights = model.get_weights()
    assert [w.shape for w in weights] == [(2, 3), (3,), (3,), (3,), (3,), (3,), (3, 1), (1,)]
    assert model.count_params() == 6 + 3 + 12 + 3 + 1
    new = [np.full(w.shape, i, np.float32) for i, w in enumerate(weights)]
    model.set_weights(new)
    for got, want in zip(model.get_weights(), new):
        np.testing.assert_array_equal(got, want)
    with pytest.raises(ValueError, match="expecting 8 weights"):
        model.set_weights(new[:2])


def test_to_json_and_model_from_json_rebuild_the_model():
    inp = keras.Input((4,), name="x")
    h = L.Dense(3, activation="relu", name="h")(inp)
    out = L.Add(name="sum")([L.Dense(2, name="p")(h), L.Dense(2, name="q")(h)])
    model = keras.Model(inp, out, name="net")
    config = json.loads(model.to_json())
    assert config["class_name"] == "Functional" and config["config"]["name"] == "net"
    keras.backend.clear_session()
    rebuilt = keras.models.model_from_json(model.to_json())
    assert [l.name for l in rebuilt.layers] == ["x", "h", "p", "q", "sum"]
    assert rebuilt.count_params() == model.count_params()
    seq = keras.Sequential([L.Dense(2, input_shape=(3,), activation="relu"), L.Dropout(0.1)])
    again = keras.models.model_from_json(seq.to_json())
    assert [type(l).__name__ for l in again.layers] == ["Dense", "Dropout"] and again.output_shape == (None, 2)


def test_save_and_load_weights_tf_checkpoint(tmp_path):
    def make():
        return keras.Sequential([L.Dense(3, input_shape=(2,)), L.Dense(1)])
    model = make()
    values = model.get_weights()
    prefix = str(tmp_path / "ckpt" / "weights")
    model.save_weights(prefix)
    keras.backend.clear_session()
    other = make()
    other.load_weights(prefix)
    for got, want in zip(other.get_weights(), values):
        np.testing.assert_array_equal(got, want)
    from xlite.train.checkpoint_utils import list_variables
    assert dict(list_variables(prefix))["layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE"] == [2, 3]


@pytest.mark.slow
def test_hdf5_weights_and_model_round_trip(tmp_path):
    pytest.importorskip("h5py")

    def make():
        return keras.Sequential([L.Dense(4, activation="relu", input_shape=(3,)), L.BatchNormalization(),
                                 L.Dense(2)])
    model = make()
    model.compile(keras.optimizers.Adam(0.01), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    x, y = np.random.default_rng(0).random((8, 3)).astype(np.float32), np.arange(8) % 2
    model.fit(x, y, verbose=0)
    want = model.predict(x)
    model.save(str(tmp_path / "m.h5"))
    model.save_weights(str(tmp_path / "w.h5"))
    import h5py
    with h5py.File(tmp_path / "w.h5", "r") as f:
        assert [n.decode() for n in f.attrs["layer_names"]] == ["dense", "batch_normalization", "dense_1"]
        assert f["dense"].attrs["weight_names"].tolist() == [b"dense/kernel:0", b"dense/bias:0"]
    keras.backend.clear_session()
    loaded = keras.models.load_model(str(tmp_path / "m.h5"))
    np.testing.assert_allclose(loaded.predict(x), want, rtol=1e-6)
    assert isinstance(loaded.optimizer, keras.optimizers.Adam) and abs(
        keras.backend.get_value(loaded.optimizer.learning_rate) - 0.01) < 1e-9
    assert loaded.fit(x, y, verbose=0).history.keys() == {"loss", "accuracy"}
    other = make()
    other.load_weights(str(tmp_path / "w.h5"))
    np.testing.assert_allclose(other.predict(x), want, rtol=1e-6)
    with pytest.raises(ValueError, match="Layer count mismatch"):
        keras.Sequential([L.Dense(4, input_shape=(3,))]).load_weights(str(tmp_path / "w.h5"))


def test_backend_session_and_learning_phase():
    model = keras.Sequential([L.Dense(2, input_shape=(3,))])
    session = keras.backend.get_session()
    assert keras.backend.get_session() is session
    other = tf.Session()
    keras.backend.set_session(other)
    assert keras.backend.get_session() is other
    assert other.run(model.weights[1]).tolist() == [0, 0]      # Keras initialized its Variables there
    assert keras.backend.learning_phase() == 0
    with keras.backend.learning_phase_scope(1):
        assert keras.backend.learning_phase() == 1
    assert keras.backend.learning_phase() == 0


def test_mirrored_strategy_scope_is_a_no_op():
    strategy = tf.distribute.MirroredStrategy()
    with strategy.scope():
        model = keras.Sequential([L.Dense(1, input_shape=(2,))])
    assert strategy.num_replicas_in_sync == 1 and model.built


@pytest.mark.slow
def test_targets_by_output_name():
    inp = keras.Input((3,))
    h = L.Dense(4)(inp)
    model = keras.Model(inp, [L.Dense(1, name="z")(h), L.Dense(2, name="b")(h)])
    model.compile("sgd", {"z": "mse", "b": "sparse_categorical_crossentropy"})
    x = np.random.default_rng(0).random((8, 3)).astype(np.float32)
    targets = {"b": np.arange(8) % 2, "z": np.zeros((8, 1), np.float32)}
    by_name = model.evaluate(x, targets, verbose=0, return_dict=True)
    by_position = model.evaluate(x, [targets["z"], targets["b"]], verbose=0, return_dict=True)
    assert by_name == by_position and set(by_name) == {"loss", "z_loss", "b_loss"}


class _TwoHeads(keras.Model):
    def __init__(self):
        super().__init__()
        self.body = L.Dense(4, activation="relu")
        self.a, self.b = L.Dense(1), L.Dense(3)

    def call(self, x):
        h = self.body(x)
        return self.a(h), self.b(h)


def test_subclassed_model_with_two_outputs():
    model = _TwoHeads()
    model.compile("sgd", ["mse", keras.losses.SparseCategoricalCrossentropy(from_logits=True)],
                  metrics=[[], ["accuracy"]])
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 2)).astype(np.float32)
    history = model.fit(x, [rng.normal(size=(16, 1)), rng.integers(0, 3, 16)], epochs=1, verbose=0)
    assert set(history.history) == {"loss", "output_1_loss", "output_2_loss", "output_2_accuracy"}


# A Sequential model's config as TF 2.21 / Keras 3.15 writes it into a .h5 file's model_config (trimmed to
# two layers; made with keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="relu")]).save).
KERAS3_CONFIG = {"class_name": "Sequential", "config": {
    "name": "sequential", "trainable": True,
    "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": None},
    "layers": [
        {"class_name": "InputLayer", "config": {"batch_shape": [None, 3], "dtype": "float32", "sparse": False,
                                                "ragged": False, "name": "input_layer", "optional": False}},
        {"class_name": "Dense", "config": {
            "name": "dense", "trainable": True,
            "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
                      "registered_name": None},
            "units": 4, "activation": "relu", "use_bias": True,
            "kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform",
                                   "config": {"seed": None, "input_axes": None, "output_axes": None},
                                   "registered_name": None},
            "bias_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {},
                                 "registered_name": None},
            "kernel_regularizer": None, "bias_regularizer": None, "kernel_constraint": None, "bias_constraint": None,
            "quantization_config": None}}]}}


def test_model_from_a_keras3_config():
    model = keras.models.model_from_json(json.dumps(KERAS3_CONFIG))
    assert [type(l).__name__ for l in model.layers] == ["Dense"] and model.output_shape == (None, 4)
    bad = json.loads(json.dumps(KERAS3_CONFIG))
    bad["config"]["layers"][1]["config"]["lora_rank"] = 4
    with pytest.raises(tf.errors.UnimplementedError, match="lora_rank"):
        keras.models.model_from_json(json.dumps(bad))
    adam = keras.optimizers.get({"class_name": "Adam", "config": {
        "name": "adam", "learning_rate": 0.002, "weight_decay": None, "clipnorm": None, "use_ema": False,
        "ema_momentum": 0.99, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07, "amsgrad": False}})
    assert isinstance(adam, keras.optimizers.Adam) and adam.epsilon == 1e-7


TF_PYTHON = "/tmp/tfvenv/bin/python"


@pytest.mark.slow
@pytest.mark.skipif(not __import__("os").path.exists(TF_PYTHON), reason="no TensorFlow environment at " + TF_PYTHON)
def test_load_model_written_by_tensorflow(tmp_path):
    pytest.importorskip("h5py")
    import subprocess
    script = f"""
import os; os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np, keras
m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="relu"), keras.layers.BatchNormalization(),
                      keras.layers.Dense(2)])
m.compile("adam", "mse")
x = np.random.RandomState(0).rand(8, 3).astype(np.float32)
m.fit(x, np.zeros((8, 2)), verbose=0)
m.save("{tmp_path}/m.h5")
np.save("{tmp_path}/x.npy", x)
np.save("{tmp_path}/y.npy", m.predict(x, verbose=0))
"""
    subprocess.run([TF_PYTHON, "-c", script], check=True, capture_output=True, timeout=300)
    x, want = np.load(tmp_path / "x.npy"), np.load(tmp_path / "y.npy")
    model = keras.models.load_model(str(tmp_path / "m.h5"))
    np.testing.assert_allclose(model.predict(x), want, rtol=1e-5, atol=1e-6)
    assert isinstance(model.optimizer, keras.optimizers.Adam) and model.loss == "mse"
    model.fit(x, np.zeros((8, 2)), verbose=0)
