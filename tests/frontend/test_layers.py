"""tf.layers: Variable names, shapes and initial statistics, op names, and the numbers each layer computes.

Names were checked against TensorFlow 2.21's `tf.compat.v1.layers` (tf_keras) in graph mode.
"""
import math

import numpy as np
import pytest

import xlite as tf

RNG = np.random.default_rng(3)


def variable_names():
    return [v.name for v in tf.global_variables()]


def initialized_session():
    s = tf.Session()
    s.run(tf.global_variables_initializer())
    return s


def test_dense_names_shapes_and_values():
    x = tf.placeholder(tf.float32, [None, 4])
    h = tf.layers.dense(x, 3, activation=tf.nn.relu)
    y = tf.layers.dense(h, 2)
    assert variable_names() == ["dense/kernel:0", "dense/bias:0", "dense_1/kernel:0", "dense_1/bias:0"]
    assert h.name == "dense/Relu:0" and y.name == "dense_1/BiasAdd:0"
    assert h.shape.as_list() == [None, 3] and y.shape.as_list() == [None, 2]
    ops = [op.name for op in tf.get_default_graph().get_operations()]
    assert {"dense/MatMul", "dense/BiasAdd", "dense/Relu", "dense/kernel/Assign"} <= set(ops)
    kernel, bias = tf.global_variables()[:2]
    xs = RNG.normal(size=(5, 4)).astype(np.float32)
    with initialized_session() as s:
        k, b, got = s.run([kernel, bias, h], {x: xs})
    np.testing.assert_array_equal(b, np.zeros(3))
    np.testing.assert_allclose(got, np.maximum(xs @ k + b, 0), rtol=1e-5, atol=1e-6)   # float32 sums


def test_dense_kernel_is_glorot_uniform():
    tf.layers.dense(tf.placeholder(tf.float32, [None, 300]), 200)
    with initialized_session() as s:
        kernel = s.run(tf.global_variables()[0])
    limit = math.sqrt(6.0 / 500)
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.99 * limit
    assert abs(kernel.std() - limit / math.sqrt(3)) < 0.02 * limit and abs(kernel.mean()) < 0.01 * limit


def test_dense_initializers_and_no_bias():
    y = tf.layers.dense(tf.ones([2, 3]), 4, use_bias=False, kernel_initializer=tf.constant_initializer(0.5))
    z = tf.layers.dense(tf.ones([2, 3]), 2, bias_initializer=tf.ones_initializer(),
                        kernel_initializer=tf.zeros_initializer())
    assert variable_names() == ["dense/kernel:0", "dense_1/kernel:0", "dense_1/bias:0"]
    with initialized_session() as s:
        np.testing.assert_array_equal(s.run(y), np.full((2, 4), 1.5))
        np.testing.assert_array_equal(s.run(z), np.ones((2, 2)))


def test_dense_on_rank_3_applies_to_the_last_dimension():
    x = tf.placeholder(tf.float32, [None, 5, 4])
    y = tf.layers.dense(x, 2)
    assert y.shape.as_list() == [None, 5, 2]
    xs = RNG.normal(size=(3, 5, 4)).astype(np.float32)
    with initialized_session() as s:
        kernel, got = s.run([tf.global_variables()[0], y], {x: xs})
    np.testing.assert_allclose(got, xs @ kernel, rtol=1e-5, atol=1e-6)
    unknown = tf.placeholder(tf.float32, [None, None, 4])
    z = tf.layers.dense(unknown, 2, name="dense", reuse=True)
    assert z.shape.as_list() == [None, None, 2]
    with initialized_session() as s:
        np.testing.assert_allclose(s.run(z, {unknown: xs}), xs @ kernel, rtol=1e-5, atol=1e-6)


def test_dense_reuse_and_name_errors():
    x = tf.placeholder(tf.float32, [None, 4])
    a = tf.layers.dense(x, 3, name="d")
    b = tf.layers.dense(x, 3, name="d", reuse=True)
    assert variable_names() == ["d/kernel:0", "d/bias:0"]
    assert a.name == "d/BiasAdd:0" and b.name == "d_1/BiasAdd:0"
    with pytest.raises(ValueError, match="Variable d/kernel already exists"):
        tf.layers.dense(x, 3, name="d")
    with tf.variable_scope("foo"):
        tf.layers.dense(x, 2)
    with pytest.raises(ValueError, match="Variable foo/dense/kernel already exists"):
        with tf.variable_scope("foo"):
            tf.layers.dense(x, 2)
    with pytest.raises(ValueError, match="last dimension of the inputs to `Dense` should be defined"):
        tf.layers.dense(tf.placeholder(tf.float32, [None, None]), 2)


def test_a_layer_object_shares_its_variables_between_calls():
    x = tf.placeholder(tf.float32, [None, 4])
    layer = tf.layers.Dense(3, name="shared")
    y1, y2 = layer(x), layer.apply(x)
    assert [v.name for v in layer.variables] == ["shared/kernel:0", "shared/bias:0"]
    assert len(tf.global_variables()) == 2 and y1.name == "shared/BiasAdd:0" and y2.name == "shared/BiasAdd_1:0"
    assert layer.kernel.shape.as_list() == [4, 3] and layer.trainable_variables == layer.variables


def test_float64_inputs_make_float64_variables():
    y = tf.layers.dense(tf.placeholder(tf.float64, [None, 4]), 2)
    assert y.dtype == tf.float64 and all(v.dtype == tf.float64 for v in tf.global_variables())


def test_untrainable_layer_and_regularizers():
    tf.layers.dense(tf.ones([1, 2]), 2, trainable=False, kernel_regularizer=lambda w: tf.reduce_sum(w * 0.0) + 1.0,
                    activity_regularizer=lambda y: tf.reduce_sum(y) * 0.0 + 2.0)
    assert tf.trainable_variables() == [] and len(tf.global_variables()) == 2
    losses = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
    with initialized_session() as s:
        assert sorted(s.run(losses)) == [1.0, 2.0]
    with pytest.raises(tf.errors.UnimplementedError, match="kernel_constraint"):
        tf.layers.dense(tf.ones([1, 2]), 2, kernel_constraint=lambda w: w)


def test_conv2d_layer_matches_nn_conv2d():
    x = tf.placeholder(tf.float32, [None, 9, 8, 3])
    y = tf.layers.conv2d(x, filters=4, kernel_size=3, strides=2, padding="Same", activation=tf.nn.relu)
    assert variable_names() == ["conv2d/kernel:0", "conv2d/bias:0"]
    assert y.name == "conv2d/Relu:0" and y.shape.as_list() == [None, 5, 4, 4]
    kernel, bias = tf.global_variables()
    assert kernel.shape.as_list() == [3, 3, 3, 4]
    reference = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(x, kernel, [1, 2, 2, 1], "SAME"), bias))
    xs = RNG.normal(size=(2, 9, 8, 3)).astype(np.float32)
    with initialized_session() as s:
        got, want = s.run([y, reference], {x: xs})
    np.testing.assert_allclose(got, want, rtol=1e-6)
    ops = {op.name for op in tf.get_default_graph().get_operations()}
    assert {"conv2d/Conv2D", "conv2d/BiasAdd"} <= ops


def test_conv2d_layer_valid_channels_first_and_errors():
    y = tf.layers.conv2d(tf.placeholder(tf.float32, [None, 7, 7, 2]), 3, (3, 2), padding="VALID")
    assert y.shape.as_list() == [None, 5, 6, 3]
    z = tf.layers.conv2d(tf.placeholder(tf.float32, [None, 2, 7, 7]), 3, 3, data_format="channels_first")
    assert z.shape.as_list() == [None, 3, 5, 5] and tf.global_variables()[-2].shape.as_list() == [3, 3, 2, 3]
    with pytest.raises(ValueError, match="padding"):
        tf.layers.conv2d(tf.ones([1, 4, 4, 1]), 1, 3, padding="full")
    with pytest.raises(ValueError, match="channel dimension of the inputs should be defined"):
        tf.layers.conv2d(tf.placeholder(tf.float32, [None, 4, 4, None]), 1, 3)


def test_pooling_and_flatten_layers():
    x = tf.placeholder(tf.float32, [None, 7, 7, 2])
    mp = tf.layers.max_pooling2d(x, 2, 2)
    ap = tf.layers.average_pooling2d(x, 3, 2, padding="same")
    flat = tf.layers.flatten(mp)
    assert mp.name == "max_pooling2d/MaxPool:0" and ap.name == "average_pooling2d/AvgPool:0"
    assert flat.name == "flatten/Reshape:0" and flat.shape.as_list() == [None, 18]
    assert mp.shape.as_list() == [None, 3, 3, 2] and ap.shape.as_list() == [None, 4, 4, 2]
    xs = RNG.normal(size=(2, 7, 7, 2)).astype(np.float32)
    with tf.Session() as s:
        got_mp, got_ap, got_flat = s.run([mp, ap, flat], {x: xs})
        want_mp, want_ap = s.run([tf.nn.max_pool(x, [1, 2, 2, 1], [1, 2, 2, 1], "VALID"),
                                  tf.nn.avg_pool(x, [1, 3, 3, 1], [1, 2, 2, 1], "SAME")], {x: xs})
    np.testing.assert_array_equal(got_mp, want_mp)
    np.testing.assert_array_equal(got_ap, want_ap)
    np.testing.assert_array_equal(got_flat, want_mp.reshape(2, -1))
    assert variable_names() == []


def test_flatten_with_unknown_dims():
    x = tf.placeholder(tf.float32, [None, None, 3])
    flat = tf.layers.flatten(x)
    xs = np.arange(24, dtype=np.float32).reshape(2, 4, 3)
    with tf.Session() as s:
        np.testing.assert_array_equal(s.run(flat, {x: xs}), xs.reshape(2, 12))


@pytest.mark.slow
def test_dropout_layer_training_flag():
    x = np.ones((100, 50), np.float32)
    off = tf.layers.dropout(x, 0.4)
    on = tf.layers.dropout(x, 0.4, training=True, seed=1)
    training = tf.placeholder(tf.bool, [])
    switch = tf.layers.dropout(x, 0.4, training=training, seed=1)
    assert off.name == "dropout/Identity:0"
    with tf.Session() as s:
        np.testing.assert_array_equal(s.run(off), x)
        dropped = s.run(on)
        assert abs((dropped == 0).mean() - 0.4) < 0.03 and np.allclose(dropped[dropped != 0], 1 / 0.6)
        np.testing.assert_array_equal(s.run(switch, {training: False}), x)
        assert (s.run(switch, {training: True}) == 0).mean() > 0.3


def test_iris_style_network_trains():
    """The USERS.md layers network (hidden 10-20-10, ReLU, sparse softmax cross-entropy) learns a toy task."""
    rng = np.random.default_rng(0)
    centers = rng.normal(0, 3, (3, 4))
    labels_np = rng.integers(0, 3, 150)
    features_np = (centers[labels_np] + rng.normal(0, 0.5, (150, 4))).astype(np.float32)
    features = tf.placeholder(tf.float32, [None, 4])
    labels = tf.placeholder(tf.int32, [None])
    h = tf.reshape(features, [-1, 4])
    for units in (10, 20, 10):
        h = tf.layers.dense(h, units=units, activation=tf.nn.relu)
    logits = tf.layers.dense(h, units=3)
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
    grads = tf.gradients(loss, tf.trainable_variables())
    step = tf.group(*[tf.assign_sub(v, 0.1 * g) for v, g in zip(tf.trainable_variables(), grads)])
    feed = {features: features_np, labels: labels_np}
    with initialized_session() as s:
        first = s.run(loss, feed)
        for _ in range(150):
            s.run(step, feed)
        last = s.run(loss, feed)
    assert last < 0.25 * first


@pytest.mark.slow
def test_deep_mnist_style_cnn_trains():
    """USERS.md's CNN shape (conv-relu-pool twice, dense, dropout, dense) on 8x8 synthetic images."""
    rng = np.random.default_rng(1)
    labels_np = rng.integers(0, 2, 32)
    images = rng.normal(0, 0.3, (32, 8, 8, 1)).astype(np.float32)
    images[labels_np == 1, 2:6, 2:6, 0] += 1.0                 # class 1 has a bright square
    x = tf.placeholder(tf.float32, [None, 8, 8, 1])
    y = tf.placeholder(tf.int64, [None])
    training = tf.placeholder_with_default(False, [])
    h = tf.layers.max_pooling2d(tf.layers.conv2d(x, 4, 3, padding="same", activation=tf.nn.relu), 2, 2)
    h = tf.nn.max_pool(tf.layers.conv2d(h, 8, 3, padding="same", activation=tf.nn.relu),
                       ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")
    h = tf.layers.dropout(tf.layers.dense(tf.layers.flatten(h), 16, activation=tf.nn.relu), 0.2, training=training)
    logits = tf.layers.dense(h, 2)
    loss = tf.losses.sparse_softmax_cross_entropy(y, logits)
    params = tf.trainable_variables()
    assert [v.name for v in params] == ["conv2d/kernel:0", "conv2d/bias:0", "conv2d_1/kernel:0", "conv2d_1/bias:0",
                                        "dense/kernel:0", "dense/bias:0", "dense_1/kernel:0", "dense_1/bias:0"]
    step = tf.group(*[tf.assign_sub(v, 0.2 * g) for v, g in zip(params, tf.gradients(loss, params))])
    correct = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), y), tf.float32))
    with initialized_session() as s:
        first = s.run(loss, {x: images, y: labels_np})
        for _ in range(60):
            s.run(step, {x: images, y: labels_np, training: True})
        last, accuracy = s.run([loss, correct], {x: images, y: labels_np})
    assert last < 0.5 * first and accuracy > 0.9


@pytest.mark.parametrize("shape,unbiased", [((6, 3), False), ((2, 3, 3, 3), True)])
def test_batch_normalization_training_and_moving_averages(shape, unbiased):
    """Rank-4 float32 inputs take TF's fused path: the moving variance uses the unbiased batch variance."""
    xs = RNG.normal(2, 3, shape).astype(np.float32)
    x = tf.constant(xs)
    y = tf.layers.batch_normalization(x, training=True)
    inference = tf.layers.batch_normalization(x, training=False, name="batch_normalization", reuse=True)
    assert variable_names() == ["batch_normalization/gamma:0", "batch_normalization/beta:0",
                                "batch_normalization/moving_mean:0", "batch_normalization/moving_variance:0"]
    assert len(tf.trainable_variables()) == 2
    updates = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
    assert len(updates) == 2
    flat = xs.reshape(-1, 3).astype(np.float64)
    with initialized_session() as s:
        got = s.run(y)
        s.run(updates)
        moving_mean, moving_variance = s.run(tf.global_variables()[2:])
        got_inference = s.run(inference)
    np.testing.assert_allclose(got.reshape(-1, 3), (flat - flat.mean(0)) / np.sqrt(flat.var(0) + 1e-3), atol=1e-5)
    np.testing.assert_allclose(moving_mean, 0.01 * flat.mean(0), rtol=1e-5)
    np.testing.assert_allclose(moving_variance, 0.99 + 0.01 * flat.var(0, ddof=1 if unbiased else 0), rtol=1e-5)
    np.testing.assert_allclose(got_inference, (xs - moving_mean) / np.sqrt(moving_variance + 1e-3), rtol=1e-5,
                               atol=1e-5)


def test_batch_normalization_with_a_training_tensor_and_channels_first():
    x = tf.placeholder(tf.float64, [None, 2, 3, 3])
    training = tf.placeholder(tf.bool, [])
    y = tf.layers.batch_normalization(x, axis=1, training=training)
    updates = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
    xs = RNG.normal(1, 2, (4, 2, 3, 3))
    per_channel = np.moveaxis(xs, 1, -1).reshape(-1, 2)
    with initialized_session() as s:
        np.testing.assert_allclose(s.run(y, {x: xs, training: False}), xs / np.sqrt(1 + 1e-3), rtol=1e-10)
        s.run(updates, {x: xs, training: False})
        np.testing.assert_array_equal(s.run(tf.global_variables()[2]), [0.0, 0.0])   # no update when not training
        got = s.run(y, {x: xs, training: True})
        s.run(updates, {x: xs, training: True})
        moving_mean = s.run(tf.global_variables()[2])
    mean, var = per_channel.mean(0), per_channel.var(0)
    np.testing.assert_allclose(got, (xs - mean[:, None, None]) / np.sqrt(var[:, None, None] + 1e-3), rtol=1e-9)
    np.testing.assert_allclose(moving_mean, 0.01 * mean, rtol=1e-9)


def test_batch_normalization_gradients_flow_through_batch_statistics():
    x = tf.constant(RNG.normal(size=(5, 3)))
    y = tf.layers.batch_normalization(x, training=True)
    gamma, beta = tf.trainable_variables()
    dx, dgamma, dbeta = tf.gradients(tf.reduce_sum(y * tf.constant(np.arange(15.0).reshape(5, 3))), [x, gamma, beta])
    with initialized_session() as s:
        got_dx, got_dbeta = s.run([dx, dbeta])
    np.testing.assert_allclose(got_dx.sum(0), 0.0, atol=1e-9)          # normalized outputs ignore a shift of x
    np.testing.assert_allclose(got_dbeta, np.arange(15.0).reshape(5, 3).sum(0))


@pytest.mark.parametrize("target", ["cpu", "interpreter"])
def test_conv1d_layer_names_shapes_and_values(target):
    from test_nn_conv_family import np_conv1d
    x = tf.placeholder(tf.float64, [None, 9, 3])
    y = tf.layers.conv1d(x, filters=4, kernel_size=3, strides=2, padding="Same", activation=tf.nn.relu)
    causal = tf.layers.conv1d(x, 2, 3, padding="causal", dilation_rate=2, name="causal")
    assert variable_names() == ["conv1d/kernel:0", "conv1d/bias:0", "causal/kernel:0", "causal/bias:0"]
    assert y.name == "conv1d/Relu:0" and y.shape.as_list() == [None, 5, 4]
    assert causal.shape.as_list() == [None, 9, 2]
    ops = {op.name for op in tf.get_default_graph().get_operations()}
    assert {"conv1d/conv1d/ExpandDims", "conv1d/conv1d", "conv1d/conv1d/Squeeze", "conv1d/BiasAdd"} <= ops
    kernel, bias, ckernel, cbias = tf.global_variables()
    assert kernel.shape.as_list() == [3, 3, 4] and ckernel.shape.as_list() == [3, 3, 2]
    xs = RNG.normal(size=(2, 9, 3))
    with tf.Session(target=target) as s:
        s.run(tf.global_variables_initializer())
        s.run([bias.assign(RNG.normal(size=4)), cbias.assign(RNG.normal(size=2))])
        got, got_causal, k, b, ck, cb = s.run([y, causal, kernel, bias, ckernel, cbias], {x: xs})
    np.testing.assert_allclose(got, np.maximum(np_conv1d(xs, k, 2, "SAME") + b, 0), rtol=1e-10, atol=1e-12)
    # causal: output t sees inputs t - 4, t - 2, t only
    left = np.pad(xs, [(0, 0), (4, 0), (0, 0)])
    np.testing.assert_allclose(got_causal, np_conv1d(left, ck, 1, "VALID", 2) + cb, rtol=1e-10, atol=1e-12)


def test_conv1d_layer_channels_first_and_errors():
    y = tf.layers.conv1d(tf.placeholder(tf.float32, [None, 2, 7]), 3, 3, data_format="channels_first")
    assert y.shape.as_list() == [None, 3, 5] and tf.global_variables()[0].shape.as_list() == [3, 2, 3]
    with pytest.raises(ValueError, match="expected ndim=3"):
        tf.layers.conv1d(tf.placeholder(tf.float32, [None, 4, 4, 1]), 1, 3)
    with pytest.raises(ValueError, match="padding"):
        tf.layers.conv2d(tf.ones([1, 4, 4, 1]), 1, 3, padding="causal")
    with pytest.raises(ValueError, match="filters"):
        tf.layers.conv1d(tf.ones([1, 4, 1]), 0, 3)
    with pytest.raises(ValueError, match="kernel_size"):
        tf.layers.Conv1D(2, (3, 3))


@pytest.mark.parametrize("target", ["cpu", "interpreter"])
def test_conv2d_transpose_layer_names_shapes_and_values(target):
    from test_nn_conv_family import np_conv2d_transpose
    x = tf.placeholder(tf.float64, [None, 5, 4, 3])
    y = tf.layers.conv2d_transpose(x, filters=6, kernel_size=3, strides=2, padding="valid")
    z = tf.layers.conv2d_transpose(x, 2, (3, 2), strides=(2, 1), padding="same", activation=tf.nn.relu)
    assert variable_names() == ["conv2d_transpose/kernel:0", "conv2d_transpose/bias:0",
                                "conv2d_transpose_1/kernel:0", "conv2d_transpose_1/bias:0"]
    assert y.name == "conv2d_transpose/BiasAdd:0" and y.shape.as_list() == [None, 11, 9, 6]
    assert z.name == "conv2d_transpose_1/Relu:0" and z.shape.as_list() == [None, 10, 4, 2]
    assert "conv2d_transpose/conv2d_transpose" in {op.name for op in tf.get_default_graph().get_operations()}
    kernel, bias, zkernel, zbias = tf.global_variables()
    assert kernel.shape.as_list() == [3, 3, 6, 3] and zkernel.shape.as_list() == [3, 2, 2, 3]
    xs = RNG.normal(size=(2, 5, 4, 3))
    with tf.Session(target=target) as s:
        s.run(tf.global_variables_initializer())
        s.run([bias.assign(RNG.normal(size=6)), zbias.assign(RNG.normal(size=2))])
        got_y, got_z, k, b, zk, zb = s.run([y, z, kernel, bias, zkernel, zbias], {x: xs})
    np.testing.assert_allclose(got_y, np_conv2d_transpose(xs, k, (2, 11, 9, 6), (2, 2), "VALID") + b,
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got_z, np.maximum(np_conv2d_transpose(xs, zk, (2, 10, 4, 2), (2, 1), "SAME") + zb, 0),
                               rtol=1e-10, atol=1e-12)


def test_conv2d_transpose_layer_channels_first_with_sizes_known_at_run_time():
    from test_nn_conv_family import np_conv2d_transpose
    x = tf.placeholder(tf.float64, [None, 3, None, None])
    y = tf.layers.conv2d_transpose(x, 4, (3, 2), strides=(2, 3), padding="same", data_format="channels_first",
                                   use_bias=False)
    assert y.shape.as_list() == [None, 4, None, None]
    (kernel,) = tf.global_variables()
    loss = tf.reduce_sum(tf.square(y))
    (dk,) = tf.gradients(loss, [kernel])
    xs = RNG.normal(size=(2, 3, 5, 4))
    with initialized_session() as s:
        got, k, grad = s.run([y, kernel, dk], {x: xs})
    nhwc = np.transpose(xs, (0, 2, 3, 1))
    want = np_conv2d_transpose(nhwc, k, (2, 10, 12, 4), (2, 3), "SAME")
    np.testing.assert_allclose(got, np.transpose(want, (0, 3, 1, 2)), rtol=1e-10, atol=1e-12)
    # the loss is quadratic in the kernel: <dL/dk, k> = 2 L
    assert np.sum(grad * k) == pytest.approx(2 * np.sum(want ** 2), rel=1e-10)
