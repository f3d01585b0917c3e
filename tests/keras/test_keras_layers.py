"""Keras layers' forward passes against NumPy on fixed weights, and their gradients by finite differences."""
import numpy as np
import pytest

import xlite as tf
from keras_cases import finite_difference_check as _finite_difference_check

keras = tf.keras
L = keras.layers
RNG = np.random.default_rng(0)


def _run(fetches, feed=None):
    return keras.backend.get_session().run(fetches, feed)


def _conv2d_nhwc(x, k, stride=1, padding="valid"):
    """Cross-correlation, NumPy: x [n, h, w, c], k [kh, kw, c, f]."""
    kh, kw = k.shape[:2]
    if padding == "same":
        ph, pw = max(kh - 1, 0), max(kw - 1, 0)
        x = np.pad(x, [(0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)])
    n, h, w, _ = x.shape
    oh, ow = (h - kh) // stride + 1, (w - kw) // stride + 1
    out = np.zeros((n, oh, ow, k.shape[3]))
    for i in range(oh):
        for j in range(ow):
            patch = x[:, i * stride:i * stride + kh, j * stride:j * stride + kw, :]
            out[:, i, j, :] = np.tensordot(patch, k, axes=([1, 2, 3], [0, 1, 2]))
    return out


def test_dense_activation_flatten_reshape_lambda_forward():
    x = RNG.normal(size=(4, 2, 3)).astype(np.float32)
    inp = keras.Input((2, 3))
    dense = L.Dense(5, activation="tanh")
    d3 = dense(inp)                        # rank 3: over the last dim
    flat = L.Flatten()(inp)
    reshaped = L.Reshape((3, -1))(inp)
    act = L.Activation("relu")(inp)
    lam = L.Lambda(lambda t, k: t * k, arguments={"k": 3.0})(inp)
    got = _run([d3, flat, reshaped, act, lam], {inp: x})
    k, b = dense.get_weights()
    np.testing.assert_allclose(got[0], np.tanh(x @ k + b), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got[1], x.reshape(4, 6))
    np.testing.assert_allclose(got[2], x.reshape(4, 3, 2))
    np.testing.assert_allclose(got[3], np.maximum(x, 0))
    np.testing.assert_allclose(got[4], 3 * x, rtol=1e-6)
    assert d3.shape.as_list() == [None, 2, 5] and reshaped.shape.as_list() == [None, 3, 2]
    assert [w.name for w in dense.weights] == ["dense/kernel:0", "dense/bias:0"]


def test_dropout_training_and_inference():
    x = np.ones((200, 50), np.float32)
    inp = keras.Input((50,))
    drop = L.Dropout(0.4)
    train, infer = drop(inp, training=True), drop(inp)
    t, i = _run([train, infer], {inp: x})
    np.testing.assert_array_equal(i, x)
    kept = t != 0
    assert abs(kept.mean() - 0.6) < 0.02
    np.testing.assert_allclose(t[kept], 1 / 0.6, rtol=1e-6)


def test_merge_layers_and_functions():
    a, b = RNG.normal(size=(3, 4)).astype(np.float32), RNG.normal(size=(3, 4)).astype(np.float32)
    ia, ib = keras.Input((4,)), keras.Input((4,))
    outs = [L.Add()([ia, ib]), L.Multiply()([ia, ib]), L.Concatenate()([ia, ib]), L.concatenate([ia, ib], axis=0),
            L.add([ia, ib]), L.Subtract()([ia, ib]), L.Average()([ia, ib]), L.Maximum()([ia, ib])]
    got = _run(outs, {ia: a, ib: b})
    want = [a + b, a * b, np.concatenate([a, b], 1), np.concatenate([a, b], 0), a + b, a - b, (a + b) / 2,
            np.maximum(a, b)]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-6)
    with pytest.raises(ValueError, match="at least 2 inputs"):
        L.Add()([ia])


def test_embedding_forward():
    ids = np.array([[0, 3, 1], [2, 2, 4]])
    inp = keras.Input((3,), dtype="int32")
    emb = L.Embedding(5, 2)
    out = emb(inp)
    table = emb.get_weights()[0]
    assert np.abs(table).max() <= 0.05      # Keras' 'uniform' initializer: U(-0.05, 0.05)
    np.testing.assert_allclose(_run(out, {inp: ids}), table[ids])
    assert out.shape.as_list() == [None, 3, 2]


def test_conv_and_pooling_forward():
    x = RNG.normal(size=(2, 6, 6, 3)).astype(np.float32)
    inp = keras.Input((6, 6, 3))
    conv = L.Conv2D(4, 3, padding="same", activation="relu")
    strided = L.Conv2D(2, (2, 2), strides=2)
    outs = [conv(inp), strided(inp), L.MaxPooling2D()(inp), L.AveragePooling2D(pool_size=3)(inp),
            L.GlobalAveragePooling2D()(inp), L.GlobalMaxPooling2D()(inp), L.ZeroPadding2D(((1, 0), (2, 1)))(inp),
            L.UpSampling2D((2, 3))(inp)]
    got = _run(outs, {inp: x})
    k, b = conv.get_weights()
    np.testing.assert_allclose(got[0], np.maximum(_conv2d_nhwc(x, k, padding="same") + b, 0), rtol=1e-4, atol=1e-5)
    k2, b2 = strided.get_weights()
    np.testing.assert_allclose(got[1], _conv2d_nhwc(x, k2, stride=2) + b2, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got[2], x.reshape(2, 3, 2, 3, 2, 3).max(axis=(2, 4)))
    np.testing.assert_allclose(got[3], x.reshape(2, 2, 3, 2, 3, 3).mean(axis=(2, 4)), rtol=1e-5)
    np.testing.assert_allclose(got[4], x.mean(axis=(1, 2)), rtol=1e-5)
    np.testing.assert_allclose(got[5], x.max(axis=(1, 2)))
    np.testing.assert_allclose(got[6], np.pad(x, [(0, 0), (1, 0), (2, 1), (0, 0)]))
    np.testing.assert_allclose(got[7], x.repeat(2, axis=1).repeat(3, axis=2))


def test_conv1d_pool1d_and_transpose_forward():
    x = RNG.normal(size=(2, 7, 3)).astype(np.float32)
    inp = keras.Input((7, 3))
    conv = L.Conv1D(4, 3, padding="causal")
    outs = [conv(inp), L.MaxPooling1D(2)(inp)]
    img = keras.Input((3, 3, 2))
    tconv = L.Conv2DTranspose(3, 2, strides=2)
    outs.append(tconv(img))
    xi = RNG.normal(size=(1, 3, 3, 2)).astype(np.float32)
    got = _run(outs, {inp: x, img: xi})
    k, b = conv.get_weights()
    padded = np.pad(x, [(0, 0), (2, 0), (0, 0)])
    want = np.stack([np.tensordot(padded[:, t:t + 3], k, axes=([1, 2], [0, 1])) for t in range(7)], 1) + b
    np.testing.assert_allclose(got[0], want, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got[1], x[:, :6].reshape(2, 3, 2, 3).max(2))
    kt, bt = tconv.get_weights()            # [kh, kw, filters, in]: each input pixel paints a 2x2 block
    want_t = np.einsum("nhwc,ijfc->nhiwjf", xi, kt).reshape(1, 6, 6, 3) + bt
    np.testing.assert_allclose(got[2], want_t, rtol=1e-4, atol=1e-5)


def test_batch_normalization_training_inference_and_moving_statistics():
    x = RNG.normal(2.0, 3.0, size=(8, 4)).astype(np.float32)
    inp = keras.Input((4,))
    bn = L.BatchNormalization(momentum=0.9)
    train, infer = bn(inp, training=True), bn(inp, training=False)
    got = _run(train, {inp: x})
    np.testing.assert_allclose(got, (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-3), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(_run(infer, {inp: x}), x / np.sqrt(1 + 1e-3), rtol=1e-5)   # moving: 0 and 1
    _run(bn.updates, {inp: x})
    mean, var = _run([bn.moving_mean, bn.moving_variance])
    np.testing.assert_allclose(mean, 0.1 * x.mean(0), rtol=1e-5)
    np.testing.assert_allclose(var, 0.9 + 0.1 * x.var(0), rtol=1e-5)
    assert [w.name for w in bn.trainable_weights] == ["batch_normalization/gamma:0", "batch_normalization/beta:0"]
    assert len(bn.non_trainable_weights) == 2


def test_layer_normalization_forward():
    x = RNG.normal(size=(3, 5)).astype(np.float32)
    inp = keras.Input((5,))
    out = L.LayerNormalization()(inp)
    want = (x - x.mean(1, keepdims=True)) / np.sqrt(x.var(1, keepdims=True) + 1e-3)
    np.testing.assert_allclose(_run(out, {inp: x}), want, rtol=1e-4, atol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("make,shape", [
    (lambda: L.Dense(3, activation="tanh", dtype="float64"), (2, 4)),
    (lambda: L.Conv2D(2, 2, padding="same", dtype="float64"), (1, 3, 3, 2)),
    (lambda: L.Conv1D(2, 2, dtype="float64"), (1, 4, 2)),
    (lambda: L.LayerNormalization(dtype="float64"), (2, 4)),
    (lambda: L.MaxPooling2D(dtype="float64"), (1, 4, 4, 1)),
    (lambda: L.GlobalAveragePooling2D(dtype="float64"), (2, 2, 2, 3)),
    (lambda: L.UpSampling2D(dtype="float64"), (1, 2, 2, 1)),
])
def test_layer_gradients_by_finite_differences(make, shape):
    _finite_difference_check(make(), RNG.normal(size=shape))


@pytest.mark.slow
def test_batch_normalization_training_gradients():
    _finite_difference_check(L.BatchNormalization(dtype="float64"), RNG.normal(size=(5, 3)), training=True,
                             rtol=1e-4, atol=1e-5)


def test_keras_layers_mix_with_tf_layers_and_raw_ops():
    x = tf.placeholder(tf.float32, [None, 3])
    h = tf.layers.dense(x, 4, activation=tf.nn.relu, name="tf_dense")
    y = L.Dense(2)(h) * 2.0 + 1.0
    session = keras.backend.get_session()
    session.run(tf.global_variables_initializer())
    assert session.run(y, {x: np.ones((5, 3), np.float32)}).shape == (5, 2)

