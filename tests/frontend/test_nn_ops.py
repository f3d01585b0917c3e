"""tf.nn forward results against NumPy references written here (loops for conv and pooling).

TF semantics (SAME padding, avg_pool's count of real elements, in_top_k ties, op names)
were checked against TensorFlow 2.21's `tf.compat.v1` in graph mode.
"""
import math

import numpy as np
import pytest

import xlite as tf
from tiers import slow_except

RNG = np.random.default_rng(7)


def run(fetches, feed=None):
    with tf.Session() as s:
        return s.run(fetches, feed)


# references --------------------------------------------------------------------------------
def same_pads(size, window, stride):
    out = -(-size // stride)
    total = max((out - 1) * stride + window - size, 0)
    return total // 2, total - total // 2


def np_conv2d(x, w, strides, padding, dilations=(1, 1)):
    """NHWC input, HWIO filter; one output pixel at a time."""
    n, h, wd, c = x.shape
    kh, kw, _, o = w.shape
    (sh, sw), (dh, dw) = strides, dilations
    ekh, ekw = (kh - 1) * dh + 1, (kw - 1) * dw + 1
    if padding == "SAME":
        pads = [same_pads(h, ekh, sh), same_pads(wd, ekw, sw)]
    elif padding == "VALID":
        pads = [(0, 0), (0, 0)]
    else:
        pads = padding
    xp = np.pad(x, [(0, 0), pads[0], pads[1], (0, 0)])
    oh = (xp.shape[1] - ekh) // sh + 1
    ow = (xp.shape[2] - ekw) // sw + 1
    out = np.zeros((n, oh, ow, o), x.dtype)
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, i * sh:i * sh + ekh:dh, j * sw:j * sw + ekw:dw, :]
            out[:, i, j, :] = np.tensordot(patch, w, axes=([1, 2, 3], [0, 1, 2]))
    return out


def np_pool(x, k, s, padding, kind):
    """Windows clipped to the real input; max ignores padding, avg divides by the real count."""
    n, h, w, c = x.shape
    if padding == "SAME":
        (top, _), (left, _) = same_pads(h, k[0], s[0]), same_pads(w, k[1], s[1])
        oh, ow = -(-h // s[0]), -(-w // s[1])
    else:
        top = left = 0
        oh, ow = (h - k[0]) // s[0] + 1, (w - k[1]) // s[1] + 1
    out = np.zeros((n, oh, ow, c), x.dtype)
    for i in range(oh):
        for j in range(ow):
            r0, c0 = i * s[0] - top, j * s[1] - left
            win = x[:, max(r0, 0):min(r0 + k[0], h), max(c0, 0):min(c0 + k[1], w), :]
            out[:, i, j, :] = win.max(axis=(1, 2)) if kind == "max" else win.mean(axis=(1, 2))
    return out


def np_log_softmax(x, axis=-1):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


# activations --------------------------------------------------------------------------------
ACTIVATIONS = {
    "relu": (tf.nn.relu, lambda x: np.maximum(x, 0)),
    "relu6": (tf.nn.relu6, lambda x: np.clip(x, 0, 6)),
    "leaky_relu": (lambda x: tf.nn.leaky_relu(x, alpha=0.1), lambda x: np.where(x > 0, x, 0.1 * x)),
    "elu": (tf.nn.elu, lambda x: np.where(x > 0, x, np.expm1(x))),
    "selu": (tf.nn.selu, lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * np.expm1(x))),
    "softplus": (tf.nn.softplus, lambda x: np.logaddexp(0, x)),
    "softsign": (tf.nn.softsign, lambda x: x / (1 + np.abs(x))),
    "sigmoid": (tf.nn.sigmoid, lambda x: 1 / (1 + np.exp(-x))),
    "tanh": (tf.nn.tanh, np.tanh),
    "swish": (tf.nn.swish, lambda x: x / (1 + np.exp(-x))),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@pytest.mark.parametrize(*slow_except("dtype", [np.float32, np.float64], 0))
def test_activation_matches_numpy(name, dtype):
    fn, ref = ACTIVATIONS[name]
    x = np.concatenate([RNG.normal(0, 4, 40), [0.0, -1e-8, 1e-8, 7.0, -30.0, 30.0, 100.0, -100.0]]).astype(dtype)
    p = tf.placeholder(dtype, [None])
    got = run(fn(p), {p: x})
    assert got.dtype == dtype
    np.testing.assert_allclose(got, ref(x.astype(np.float64)), rtol=1e-6 if dtype == np.float64 else 2e-6,
                               atol=1e-6 if dtype == np.float32 else 1e-12)


def test_activation_names_and_types():
    x = tf.placeholder(tf.float32, [None, 4])
    assert tf.nn.relu(x).name == "Relu:0" and tf.nn.relu(x).name == "Relu_1:0"
    assert tf.nn.elu(x, name="act").name == "act:0"
    assert tf.nn.leaky_relu(x).op.get_attr("alpha") == pytest.approx(0.2)
    np.testing.assert_array_equal(run(tf.nn.relu(tf.constant([-3, 0, 4]))), [0, 0, 4])
    with pytest.raises(TypeError):
        tf.nn.softplus(tf.constant([1, 2]))


# softmax family ------------------------------------------------------------------------------
@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_softmax_and_log_softmax(axis):
    x = RNG.normal(0, 3, (3, 5, 4))
    p = tf.placeholder(tf.float64, [None, 5, None])
    sm, lsm = run([tf.nn.softmax(p, axis=axis), tf.nn.log_softmax(p, axis=axis)], {p: x})
    np.testing.assert_allclose(lsm, np_log_softmax(x, axis), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(sm, np.exp(np_log_softmax(x, axis)), rtol=1e-12)


def test_softmax_is_stable_for_huge_logits():
    x = np.array([[1000.0, 1001.0, 1002.0], [-1e4, 0.0, 1e4]], np.float32)
    sm, lsm = run([tf.nn.softmax(tf.constant(x)), tf.nn.log_softmax(tf.constant(x))])
    np.testing.assert_allclose(sm, np.exp(np_log_softmax(x.astype(np.float64))), rtol=1e-6)
    assert np.all(np.isfinite(lsm)) and lsm[1, 0] == pytest.approx(-2e4)


def test_softmax_names_follow_tf():
    x = tf.placeholder(tf.float32, [None, 4])
    assert tf.nn.softmax(x).name == "Softmax:0" and tf.nn.log_softmax(x).name == "LogSoftmax:0"
    assert tf.nn.softmax(x, name="probs").name == "probs:0"
    assert all(op.name.startswith(("Softmax", "LogSoftmax", "probs", "Placeholder"))
               for op in tf.get_default_graph().get_operations())


def test_softmax_cross_entropy_v1_and_v2():
    logits = RNG.normal(0, 2, (4, 6))
    labels = RNG.dirichlet(np.ones(6), size=4)
    expected = -(labels * np_log_softmax(logits)).sum(-1)
    v2 = tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits)
    v1 = tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    on_axis0 = tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels.T, logits=logits.T, axis=0)
    got = run([v2, v1, on_axis0])
    for g in got:
        np.testing.assert_allclose(g, expected, rtol=1e-12)
    assert v2.shape.as_list() == [4]
    with pytest.raises(ValueError, match="named arguments"):
        tf.nn.softmax_cross_entropy_with_logits(labels, logits)


def test_cross_entropy_from_logits_never_takes_log_of_softmax():
    logits = np.array([[200.0, 0.0, -200.0]], np.float32)
    labels = np.array([[0.0, 0.0, 1.0]], np.float32)
    got = run(tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits))
    np.testing.assert_allclose(got, [400.0], rtol=1e-6)


def test_sparse_softmax_cross_entropy():
    logits = RNG.normal(0, 2, (2, 3, 5))
    labels = RNG.integers(0, 5, (2, 3))
    lp = tf.placeholder(tf.int64, [None, 3])
    xp = tf.placeholder(tf.float64, [None, 3, 5])
    got = run(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=lp, logits=xp), {lp: labels, xp: logits})
    expected = -np.take_along_axis(np_log_softmax(logits), labels[..., None], -1)[..., 0]
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_sparse_softmax_cross_entropy_with_classes_known_only_at_run_time():
    logits = RNG.normal(0, 2, (4, 6))
    labels = RNG.integers(0, 6, 4)
    xp, lp = tf.placeholder(tf.float64, [None, None]), tf.placeholder(tf.int32, [None])
    got = run(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=lp, logits=xp), {xp: logits, lp: labels})
    np.testing.assert_allclose(got, -np_log_softmax(logits)[np.arange(4), labels], rtol=1e-12)


def test_sparse_cross_entropy_shapes_are_checked():     # (labels out of range: test_nn_softmax.py)
    with pytest.raises(ValueError, match="rank"):
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[[0]], logits=np.zeros((1, 3), np.float32))
    with pytest.raises(TypeError, match="int32 or int64"):
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[0.0], logits=np.zeros((1, 3), np.float32))


def test_sigmoid_and_weighted_cross_entropy():
    x = np.concatenate([RNG.normal(0, 3, 20), [0.0, 80.0, -80.0]])
    z = RNG.uniform(0, 1, x.shape)
    sig = tf.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x)
    weighted = tf.nn.weighted_cross_entropy_with_logits(labels=z, logits=x, pos_weight=2.5)
    got_sig, got_w = run([sig, weighted])
    p_log = -np.logaddexp(0, -x)          # log sigmoid(x)
    n_log = -np.logaddexp(0, x)           # log(1 - sigmoid(x))
    np.testing.assert_allclose(got_sig, -(z * p_log + (1 - z) * n_log), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got_w, -(2.5 * z * p_log + (1 - z) * n_log), rtol=1e-12, atol=1e-12)
    assert sig.name == "logistic_loss:0"


# bias_add, l2_loss, normalization ------------------------------------------------------------
def test_bias_add_nhwc_and_nchw():
    x = RNG.normal(size=(2, 3, 4, 5))
    nhwc = tf.nn.bias_add(x, np.arange(5.0))
    nchw = tf.nn.bias_add(x, np.arange(3.0), data_format="NCHW")
    got = run([nhwc, nchw])
    np.testing.assert_array_equal(got[0], x + np.arange(5.0))
    np.testing.assert_array_equal(got[1], x + np.arange(3.0)[None, :, None, None])
    assert nhwc.name == "BiasAdd:0"
    with pytest.raises(ValueError, match="Dimensions must be equal"):
        tf.nn.bias_add(x, np.arange(4.0))
    with pytest.raises(ValueError, match="rank"):
        tf.nn.bias_add(np.ones(3), np.ones(3))


def test_l2_loss_and_l2_normalize():
    x = RNG.normal(size=(3, 4))
    loss, normed = run([tf.nn.l2_loss(x), tf.nn.l2_normalize(x, axis=1)])
    assert loss == pytest.approx((x ** 2).sum() / 2)
    np.testing.assert_allclose(normed, x / np.linalg.norm(x, axis=1, keepdims=True), rtol=1e-12)
    np.testing.assert_array_equal(run(tf.nn.l2_normalize(np.zeros(3), 0)), np.zeros(3))


def test_moments_and_batch_normalization():
    x = RNG.normal(2, 3, (4, 5, 6))
    mean, var = tf.nn.moments(tf.constant(x), axes=[0, 1])
    kmean, kvar = tf.nn.moments(tf.constant(x), axes=[0, 1], keep_dims=True)
    scale, offset = RNG.normal(size=6), RNG.normal(size=6)
    bn = tf.nn.batch_normalization(x, mean, var, offset, scale, 1e-3)
    bn_plain = tf.nn.batch_normalization(x, mean, var, None, None, 1e-3)
    m, v, km, kv, got, plain = run([mean, var, kmean, kvar, bn, bn_plain])
    np.testing.assert_allclose(m, x.mean((0, 1)), rtol=1e-12)
    np.testing.assert_allclose(v, x.var((0, 1)), rtol=1e-12)
    assert km.shape == kv.shape == (1, 1, 6)
    np.testing.assert_allclose(got, (x - m) / np.sqrt(v + 1e-3) * scale + offset, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(plain, (x - m) / np.sqrt(v + 1e-3), rtol=1e-10, atol=1e-12)
    assert mean.shape.as_list() == [6] and mean.name.startswith("moments/")


def test_in_top_k_counts_ties_as_in():
    predictions = np.array([[0.1, 0.3, 0.3, 0.2], [0.5, 0.4, 0.05, 0.05], [1.0, np.nan, 0.0, 0.0],
                            [0.1, 0.2, 0.3, 0.4]], np.float32)
    targets = tf.constant([2, 2, 0, 7])
    got1, got2 = run([tf.nn.in_top_k(predictions, targets, 1), tf.nn.in_top_k(predictions, targets, 3)])
    assert got1.tolist() == [True, False, False, False]
    assert got2.tolist() == [True, True, False, False]


def test_embedding_lookup_gathers_rows():
    params = RNG.normal(size=(10, 3))
    ids = np.array([[1, 9], [0, 1]])
    np.testing.assert_array_equal(run(tf.nn.embedding_lookup(params, ids)), params[ids])
    np.testing.assert_array_equal(run(tf.nn.embedding_lookup([params], [4])), params[[4]])
    # sharded params: tests/frontend/test_embedding_ops.py


# dropout ---------------------------------------------------------------------------------------
def test_dropout_zeroes_a_fraction_and_scales_the_rest():
    x = np.ones((200, 100), np.float32)
    got = run(tf.nn.dropout(x, rate=0.3, seed=1))
    kept = got != 0
    assert abs(kept.mean() - 0.7) < 0.02
    np.testing.assert_allclose(got[kept], 1 / 0.7, rtol=1e-6)


def test_dropout_keep_prob_placeholder_and_rate_zero():
    x = RNG.normal(size=(3, 4)).astype(np.float32)
    keep = tf.placeholder(tf.float32)
    d = tf.nn.dropout(x, keep_prob=keep)
    np.testing.assert_allclose(run(d, {keep: 1.0}), x, rtol=1e-7)
    half = run(d, {keep: 0.5})
    assert np.all((half == 0) | np.isclose(half, 2 * x))
    assert tf.nn.dropout(tf.constant(x), rate=0.0).op.type == "Const"
    with pytest.raises(ValueError, match="range"):
        tf.nn.dropout(x, rate=1.0)
    with pytest.raises(ValueError, match="rate"):
        tf.nn.dropout(x)


def test_dropout_noise_shape_broadcasts_and_seeds_repeat():
    x = np.ones((50, 6), np.float32)
    got = run(tf.nn.dropout(x, rate=0.5, noise_shape=[1, 6], seed=3))
    assert np.all(got == got[0])
    p = tf.placeholder(tf.float32, [None, 6])
    d = tf.nn.dropout(p, rate=0.5, seed=5)
    assert d.shape.as_list() == [None, 6]
    with tf.Session() as s:
        first = s.run(d, {p: x})
    with tf.Session() as s:
        np.testing.assert_array_equal(s.run(d, {p: x}), first)


# convolution -------------------------------------------------------------------------------------
CONV_CASES = [
    # input NHWC, filter HWIO, strides, padding, dilations
    ((2, 7, 6, 3), (3, 3, 3, 4), (1, 1), "SAME", (1, 1)),
    ((2, 7, 6, 3), (3, 3, 3, 4), (1, 1), "VALID", (1, 1)),
    ((1, 9, 8, 2), (3, 2, 2, 3), (2, 2), "SAME", (1, 1)),
    ((1, 9, 8, 2), (3, 2, 2, 3), (2, 3), "VALID", (1, 1)),
    ((1, 5, 5, 1), (5, 5, 1, 2), (2, 2), "SAME", (1, 1)),
    ((1, 4, 4, 2), (1, 1, 2, 5), (1, 1), "SAME", (1, 1)),
    ((2, 8, 9, 2), (3, 3, 2, 2), (1, 1), "SAME", (2, 2)),
    ((2, 8, 9, 2), (2, 3, 2, 2), (1, 1), "VALID", (2, 1)),
    ((1, 6, 7, 2), (3, 3, 2, 3), (2, 1), [(1, 2), (0, 1)], (1, 1)),
]


@pytest.mark.parametrize(*slow_except("xs,ws,strides,padding,dilations", CONV_CASES, 0, -1))
def test_conv2d_matches_loops(xs, ws, strides, padding, dilations):
    x, w = RNG.normal(size=xs), RNG.normal(size=ws)
    p = tf.placeholder(tf.float64, [None, xs[1], xs[2], xs[3]])
    pad_arg = padding if isinstance(padding, str) else [[0, 0], list(padding[0]), list(padding[1]), [0, 0]]
    y = tf.nn.conv2d(p, w, strides=[1, *strides, 1], padding=pad_arg, dilations=[1, *dilations, 1])
    expected = np_conv2d(x, w, strides, padding, dilations)
    assert y.shape.as_list() == [None, *expected.shape[1:]]
    np.testing.assert_allclose(run(y, {p: x}), expected, rtol=1e-10, atol=1e-12)


def test_conv2d_float32_nchw_and_short_strides():
    x, w = RNG.normal(size=(2, 6, 5, 3)).astype(np.float32), RNG.normal(size=(3, 3, 3, 4)).astype(np.float32)
    nhwc = tf.nn.conv2d(x, w, strides=2, padding="SAME")
    nchw = tf.nn.conv2d(np.transpose(x, (0, 3, 1, 2)), w, strides=[1, 1, 2, 2], padding="SAME", data_format="NCHW")
    got, got_nchw = run([nhwc, nchw])
    expected = np_conv2d(x.astype(np.float64), w.astype(np.float64), (2, 2), "SAME")
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(np.transpose(got_nchw, (0, 2, 3, 1)), expected, rtol=1e-4, atol=1e-4)
    assert nhwc.name == "Conv2D:0" and got.dtype == np.float32


def test_conv2d_errors():
    x = tf.placeholder(tf.float32, [None, 5, 5, 3])
    with pytest.raises(ValueError):
        tf.nn.conv2d(x, np.ones((3, 3, 2, 4), np.float32), [1, 1, 1, 1], "SAME")
    with pytest.raises(ValueError, match="batch and depth"):
        tf.nn.conv2d(x, np.ones((3, 3, 3, 4), np.float32), [2, 1, 1, 1], "SAME")
    with pytest.raises(ValueError, match="padding"):
        tf.nn.conv2d(x, np.ones((3, 3, 3, 4), np.float32), [1, 1, 1, 1], "FULL")
    with pytest.raises(TypeError):
        tf.nn.conv2d(tf.ones([1, 3, 3, 1], tf.int32), tf.ones([1, 1, 1, 1], tf.int32), [1, 1, 1, 1], "SAME")


def test_conv2d_transpose_is_the_adjoint_of_conv2d():
    x, w = RNG.normal(size=(2, 7, 6, 3)), RNG.normal(size=(3, 3, 3, 4))
    y = RNG.normal(size=(2, 4, 3, 4))
    conv = tf.nn.conv2d(x, w, [1, 2, 2, 1], "SAME")
    transposed = tf.nn.conv2d_transpose(y, w, output_shape=[2, 7, 6, 3], strides=[1, 2, 2, 1], padding="SAME")
    cx, ty = run([conv, transposed])
    assert ty.shape == x.shape
    assert np.sum(cx * y) == pytest.approx(np.sum(x * ty), rel=1e-12)


# pooling ------------------------------------------------------------------------------------
POOL_CASES = [((2, 6, 6, 3), (2, 2), (2, 2), "VALID"), ((2, 7, 5, 2), (2, 2), (2, 2), "SAME"),
              ((1, 7, 7, 1), (3, 3), (2, 2), "SAME"), ((1, 7, 8, 2), (3, 2), (1, 2), "VALID"),
              ((1, 5, 4, 1), (3, 3), (1, 1), "SAME"), ((2, 3, 3, 1), (5, 5), (2, 2), "SAME")]


@pytest.mark.parametrize(*slow_except("xs,k,s,padding", POOL_CASES, 1, 5))
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pooling_matches_loops(xs, k, s, padding, kind):
    x = RNG.normal(size=xs)
    p = tf.placeholder(tf.float64, [None, *xs[1:]])
    pool = tf.nn.max_pool if kind == "max" else tf.nn.avg_pool
    y = pool(p, ksize=[1, *k, 1], strides=[1, *s, 1], padding=padding)
    expected = np_pool(x, k, s, padding, kind)
    assert y.shape.as_list() == [None, *expected.shape[1:]]
    np.testing.assert_allclose(run(y, {p: x}), expected, rtol=1e-12)


def test_pooling_names_int_max_pool_and_nchw():
    x = RNG.normal(size=(1, 2, 5, 5)).astype(np.float32)
    mp = tf.nn.max_pool(x, [1, 1, 2, 2], [1, 1, 2, 2], "SAME", data_format="NCHW")
    ap = tf.nn.avg_pool(x, [1, 1, 3, 3], [1, 1, 2, 2], "SAME", data_format="NCHW")
    got_mp, got_ap = run([mp, ap])
    ref_x = np.transpose(x, (0, 2, 3, 1))
    np.testing.assert_allclose(np.transpose(got_mp, (0, 2, 3, 1)), np_pool(ref_x, (2, 2), (2, 2), "SAME", "max"))
    np.testing.assert_allclose(np.transpose(got_ap, (0, 2, 3, 1)), np_pool(ref_x, (3, 3), (2, 2), "SAME", "avg"),
                               rtol=1e-6, atol=1e-6)     # a mean of 9 terms of size ~1 may cancel
    assert mp.name == "MaxPool:0" and ap.name == "AvgPool:0"
    ints = tf.nn.max_pool(tf.constant(np.arange(16).reshape(1, 4, 4, 1)), 2, 2, "VALID")
    assert run(ints).reshape(-1).tolist() == [5, 7, 13, 15]
    with pytest.raises(TypeError):
        tf.nn.avg_pool(tf.constant(np.ones((1, 2, 2, 1), np.int32)), 2, 2, "VALID")
