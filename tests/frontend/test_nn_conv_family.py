"""conv1d, depthwise_conv2d, separable_conv2d, atrous_conv2d and conv2d_transpose: forward values against
NumPy loops on the cpu and interpreter targets, static shapes, op names, errors, gradients by finite
differences, and TensorFlow's values where it imports.

Names, static shapes and error cases were checked against TensorFlow 2.21's `tf.compat.v1` in graph mode.
"""
import numpy as np
import pytest

import gradcheck
import xlite as tf
from tiers import slow_except
from test_nn_ops import np_conv2d, same_pads

RNG = np.random.default_rng(17)
TARGETS = ["cpu", pytest.param("interpreter", marks=pytest.mark.slow)]      # the quick tier runs cpu only


def run(fetches, feed=None, target="cpu"):
    with tf.Session(target=target) as s:
        return s.run(fetches, feed)


def check_grad(fn, *arrays, **options):
    return gradcheck.check_grad(fn, *arrays, **{**dict(rng=RNG, atol=1e-7), **options})


# references --------------------------------------------------------------------------------
def np_conv1d(x, w, stride, padding, dilation=1):
    """NWC input, [width, in, out] filter; one output position at a time."""
    k = w.shape[0]
    ek = (k - 1) * dilation + 1
    lo, hi = same_pads(x.shape[1], ek, stride) if padding == "SAME" else (0, 0)
    xp = np.pad(x, [(0, 0), (lo, hi), (0, 0)])
    out_w = (xp.shape[1] - ek) // stride + 1
    cols = [np.tensordot(xp[:, i * stride:i * stride + ek:dilation], w, axes=([1, 2], [0, 1]))
            for i in range(out_w)]
    return np.stack(cols, 1) if cols else np.zeros((x.shape[0], 0, w.shape[2]))


def np_depthwise(x, w, strides, padding, dilations=(1, 1)):
    """NHWC; channel c alone through its M filters gives output channels c*M .. c*M + M-1."""
    c = x.shape[3]
    return np.concatenate([np_conv2d(x[..., i:i + 1], w[:, :, i:i + 1, :], strides, padding, dilations)
                           for i in range(c)], axis=3)


def np_conv2d_transpose(y, w, out_shape, strides, padding):
    """Each input pixel scatters y[n, i, j, :] . w[:, :, o, :] onto its window of the (padded) output."""
    n, h, wd, _ = out_shape
    kh, kw = w.shape[:2]
    (sh, sw) = strides
    (top, _), (left, _) = ((same_pads(h, kh, sh), same_pads(wd, kw, sw)) if padding == "SAME"
                           else ((0, 0), (0, 0)))
    full = np.zeros((n, max(top + h, (y.shape[1] - 1) * sh + kh), max(left + wd, (y.shape[2] - 1) * sw + kw),
                     w.shape[2]))
    for i in range(y.shape[1]):
        for j in range(y.shape[2]):
            full[:, i * sh:i * sh + kh, j * sw:j * sw + kw] += np.einsum("nc,hwoc->nhwo", y[:, i, j], w)
    return full[:, top:top + h, left:left + wd]


def test_references_agree_with_each_other():
    """The depthwise reference is a grouped conv: with one channel it is conv2d itself."""
    x, w = RNG.normal(size=(2, 5, 4, 1)), RNG.normal(size=(3, 2, 1, 3))
    np.testing.assert_allclose(np_depthwise(x, w, (2, 1), "SAME"), np_conv2d(x, w, (2, 1), "SAME"))
    x1, w1 = RNG.normal(size=(2, 7, 3)), RNG.normal(size=(3, 3, 2))
    np.testing.assert_allclose(np_conv1d(x1, w1, 2, "SAME", 2),
                               np_conv2d(x1[:, None], w1[None], (1, 2), "SAME", (1, 2))[:, 0])


# conv1d ------------------------------------------------------------------------------------
CONV1D_CASES = [
    # input NWC, filter [k, in, out], stride, padding, dilation
    ((2, 9, 3), (3, 3, 4), 1, "SAME", 1),
    ((2, 9, 3), (3, 3, 4), 2, "VALID", 1),
    ((1, 7, 2), (4, 2, 1), 3, "SAME", 1),
    ((3, 1, 1), (1, 1, 2), 1, "VALID", 1),
    ((1, 11, 2), (3, 2, 3), 1, "SAME", 2),
    ((2, 10, 1), (2, 1, 2), 1, "VALID", 3),
]


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize(*slow_except("xs,ws,stride,padding,dilation", CONV1D_CASES, every=3))
def test_conv1d_matches_loops(xs, ws, stride, padding, dilation, target):
    x, w = RNG.normal(size=xs), RNG.normal(size=ws)
    p = tf.placeholder(tf.float64, [None, *xs[1:]])
    y = tf.nn.conv1d(p, w, stride=stride, padding=padding, dilations=dilation)
    expected = np_conv1d(x, w, stride, padding, dilation)
    assert y.shape.as_list() == [None, *expected.shape[1:]]
    np.testing.assert_allclose(run(y, {p: x}, target), expected, rtol=1e-10, atol=1e-12)


def test_conv1d_ncw_names_and_float32():
    x, w = RNG.normal(size=(2, 8, 3)).astype(np.float32), RNG.normal(size=(3, 3, 5)).astype(np.float32)
    nwc = tf.nn.conv1d(x, w, 2, "SAME")
    ncw = tf.nn.conv1d(input=np.transpose(x, (0, 2, 1)), filters=w, stride=[1, 1, 2], padding="SAME",
                       data_format="NCW", name="c")
    assert nwc.name == "conv1d/Squeeze:0" and ncw.name == "c/Squeeze:0"
    ops = [(op.type, op.name) for op in tf.get_default_graph().get_operations()]
    assert [("ExpandDims", "conv1d/ExpandDims"), ("ExpandDims", "conv1d/ExpandDims_1"), ("Conv2D", "conv1d"),
            ("Squeeze", "conv1d/Squeeze")] == [o for o in ops if o[1].startswith("conv1d") and o[0] != "Const"]
    got, got_ncw = run([nwc, ncw])
    expected = np_conv1d(x.astype(np.float64), w.astype(np.float64), 2, "SAME")
    assert got.dtype == np.float32 and ncw.shape.as_list() == [2, 5, 4]
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(np.transpose(got_ncw, (0, 2, 1)), expected, rtol=1e-4, atol=1e-4)


def test_conv1d_errors():
    x = tf.placeholder(tf.float32, [None, 5, 3])
    with pytest.raises(ValueError, match="data_format"):
        tf.nn.conv1d(x, np.ones((3, 3, 2), np.float32), 1, "SAME", data_format="NHWC3")
    with pytest.raises(ValueError, match="conv1d: input must be rank 3"):
        tf.nn.conv1d(tf.placeholder(tf.float32, [None, 5, 5, 3]), np.ones((3, 3, 2), np.float32), 1, "SAME")
    with pytest.raises(ValueError, match="conv1d"):
        tf.nn.conv1d(x, np.ones((3, 4, 2), np.float32), 1, "SAME")     # 4 filter channels for 3
    with pytest.raises(TypeError, match="conv1d"):
        tf.nn.conv1d(tf.ones([1, 3, 1], tf.int32), tf.ones([1, 1, 1], tf.int32), 1, "SAME")


# depthwise and separable -------------------------------------------------------------------
DEPTHWISE_CASES = [
    # input NHWC, filter [h, w, C, M], strides, padding, rate
    ((2, 7, 6, 3), (3, 3, 3, 2), (1, 1), "SAME", (1, 1)),
    ((2, 7, 6, 3), (3, 3, 3, 1), (1, 1), "VALID", (1, 1)),
    ((1, 9, 8, 2), (3, 2, 2, 3), (2, 2), "SAME", (1, 1)),
    ((1, 9, 8, 2), (3, 2, 2, 2), (2, 3), "VALID", (1, 1)),
    ((1, 1, 1, 4), (1, 1, 4, 2), (1, 1), "SAME", (1, 1)),
    ((1, 5, 5, 1), (5, 5, 1, 2), (2, 2), "SAME", (1, 1)),
    ((2, 8, 9, 2), (3, 3, 2, 2), (1, 1), "SAME", (2, 2)),
    ((1, 8, 9, 3), (2, 3, 3, 1), (1, 1), "VALID", (2, 3)),
]


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize(*slow_except("xs,ws,strides,padding,rate", DEPTHWISE_CASES, every=3))
def test_depthwise_conv2d_matches_loops(xs, ws, strides, padding, rate, target):
    x, w = RNG.normal(size=xs), RNG.normal(size=ws)
    p = tf.placeholder(tf.float64, [None, *xs[1:]])
    y = tf.nn.depthwise_conv2d(p, w, [1, *strides, 1], padding, rate=rate)
    expected = np_depthwise(x, w, strides, padding, rate)
    assert y.shape.as_list() == [None, *expected.shape[1:]] and y.op.type == "DepthwiseConv2dNative"
    np.testing.assert_allclose(run(y, {p: x}, target), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("target", TARGETS)
def test_depthwise_nchw_native_and_names(target):
    x, w = RNG.normal(size=(2, 6, 5, 3)).astype(np.float32), RNG.normal(size=(3, 3, 3, 2)).astype(np.float32)
    nhwc = tf.nn.depthwise_conv2d(x, w, [1, 2, 2, 1], "SAME")
    nchw = tf.nn.depthwise_conv2d(np.transpose(x, (0, 3, 1, 2)), w, [1, 1, 2, 2], "SAME", data_format="NCHW")
    native = tf.nn.depthwise_conv2d_native(x, w, [1, 1, 1, 1], "VALID", dilations=[1, 2, 1, 1])
    assert (nhwc.name, nchw.name, native.name) == ("depthwise:0", "depthwise_1:0", "DepthwiseConv2dNative:0")
    assert nchw.shape.as_list() == [2, 6, 3, 3] and native.shape.as_list() == [2, 2, 3, 6]
    got, got_nchw, got_native = run([nhwc, nchw, native], target=target)
    x64, w64 = x.astype(np.float64), w.astype(np.float64)
    expected = np_depthwise(x64, w64, (2, 2), "SAME")
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(np.transpose(got_nchw, (0, 2, 3, 1)), expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(got_native, np_depthwise(x64, w64, (1, 1), "VALID", (2, 1)), rtol=1e-4, atol=1e-4)


def test_depthwise_backprop_ops_are_the_adjoints():
    """<depthwise(x, w), g> = <x, backprop_input(g)> = <w, backprop_filter(x, g)>."""
    x, w = RNG.normal(size=(2, 7, 6, 3)), RNG.normal(size=(3, 2, 3, 2))
    y = tf.nn.depthwise_conv2d_native(x, w, [1, 2, 3, 1], "SAME")
    g = RNG.normal(size=y.shape.as_list())
    dx = tf.nn.depthwise_conv2d_native_backprop_input([2, 7, 6, 3], w, g, [1, 2, 3, 1], "SAME")
    dw = tf.nn.depthwise_conv2d_native_backprop_filter(x, [3, 2, 3, 2], g, [1, 2, 3, 1], "SAME")
    assert dx.shape.as_list() == [2, 7, 6, 3] and dw.shape.as_list() == [3, 2, 3, 2]
    yv, dxv, dwv = run([y, dx, dw])
    assert np.sum(yv * g) == pytest.approx(np.sum(x * dxv), rel=1e-12)
    assert np.sum(yv * g) == pytest.approx(np.sum(w * dwv), rel=1e-12)


@pytest.mark.parametrize("target", TARGETS)
def test_separable_conv2d_is_depthwise_then_pointwise(target):
    x, dw, pw = RNG.normal(size=(2, 7, 6, 3)), RNG.normal(size=(3, 3, 3, 2)), RNG.normal(size=(1, 1, 6, 4))
    p = tf.placeholder(tf.float64, [None, 7, 6, 3])
    y = tf.nn.separable_conv2d(p, dw, pw, [1, 2, 2, 1], "SAME")
    z = tf.nn.separable_conv2d(p, dw, pw, [1, 1, 1, 1], "VALID", rate=2, name="sep")
    assert y.name == "separable_conv2d:0" and y.shape.as_list() == [None, 4, 3, 4]
    assert z.name == "sep:0" and z.shape.as_list() == [None, 3, 2, 4]
    assert z.op.inputs[0].op.name == "sep/depthwise"
    got_y, got_z = run([y, z], {p: x}, target)
    np.testing.assert_allclose(got_y, np_conv2d(np_depthwise(x, dw, (2, 2), "SAME"), pw, (1, 1), "VALID"),
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got_z, np_conv2d(np_depthwise(x, dw, (1, 1), "VALID", (2, 2)), pw, (1, 1),
                                                "VALID"), rtol=1e-10, atol=1e-12)


def test_depthwise_and_separable_errors():
    x = tf.placeholder(tf.float32, [None, 5, 5, 3])
    with pytest.raises(ValueError, match="DepthwiseConv2dNative: input depth 3 does not match"):
        tf.nn.depthwise_conv2d(x, np.ones((3, 3, 2, 1), np.float32), [1, 1, 1, 1], "SAME")
    with pytest.raises(ValueError, match="depthwise_conv2d: when rate is greater than 1, all strides must be 1"):
        tf.nn.depthwise_conv2d(x, np.ones((3, 3, 3, 1), np.float32), [1, 2, 2, 1], "SAME", rate=2)
    with pytest.raises(ValueError, match="Cannot specify both"):
        tf.nn.depthwise_conv2d(x, np.ones((3, 3, 3, 1), np.float32), [1, 1, 1, 1], "SAME", rate=2, dilations=2)
    with pytest.raises(ValueError, match="rate"):
        tf.nn.depthwise_conv2d(x, np.ones((3, 3, 3, 1), np.float32), [1, 1, 1, 1], "SAME", rate=0)
    with pytest.raises(ValueError, match="separable_conv2d: pointwise_filter must be"):
        tf.nn.separable_conv2d(x, np.ones((3, 3, 3, 1), np.float32), np.ones((3, 1, 3, 2), np.float32),
                               [1, 1, 1, 1], "SAME")
    with pytest.raises(ValueError, match="depthwise_conv2d_native_backprop_filter"):
        tf.nn.depthwise_conv2d_native_backprop_filter(x, [3, 3, 3, 1], tf.ones([2, 5, 5, 3]), [2, 1, 1, 1], "SAME")
    with pytest.raises(ValueError, match="DepthwiseConv2dNativeBackpropFilter: output gradient depth 3"):
        tf.nn.depthwise_conv2d_native_backprop_filter(tf.ones([1, 5, 5, 3]), [3, 3, 3, 2], tf.ones([1, 5, 5, 3]),
                                                      [1, 1, 1, 1], "SAME")
    with pytest.raises(TypeError, match="depthwise_conv2d"):
        tf.nn.depthwise_conv2d(tf.ones([1, 3, 3, 1], tf.int32), tf.ones([1, 1, 1, 1], tf.int32), [1] * 4, "SAME")


def test_depthwise_channel_mismatch_fed_at_run_time_is_invalid_argument():
    x = tf.placeholder(tf.float32, [None, 5, 5, None])
    y = tf.nn.depthwise_conv2d(x, np.ones((3, 3, 3, 2), np.float32), [1, 1, 1, 1], "SAME")
    assert y.shape.as_list() == [None, 5, 5, 6]
    with pytest.raises(tf.errors.InvalidArgumentError, match="depthwise"):
        run(y, {x: np.ones((1, 5, 5, 2), np.float32)})


# atrous and transposed ---------------------------------------------------------------------
@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize(*slow_except("rate,padding", [(1, "SAME"), (2, "SAME"), (3, "VALID"), ((2, 1), "VALID")], 1, 3))
def test_atrous_conv2d_is_a_dilated_conv(rate, padding, target):
    x, w = RNG.normal(size=(2, 9, 8, 3)), RNG.normal(size=(3, 2, 3, 4))
    p = tf.placeholder(tf.float64, [None, 9, 8, 3])
    y = tf.nn.atrous_conv2d(p, w, rate, padding)
    expected = np_conv2d(x, w, (1, 1), padding, tuple(np.broadcast_to(rate, (2,))))
    assert y.name == "convolution:0" and y.shape.as_list() == [None, *expected.shape[1:]]
    np.testing.assert_allclose(run(y, {p: x}, target), expected, rtol=1e-10, atol=1e-12)


def test_atrous_conv2d_rejects_rate_below_one():
    with pytest.raises(ValueError, match="atrous_conv2d: all values of `dilation_rate` must be positive"):
        tf.nn.atrous_conv2d(tf.ones([1, 4, 4, 1]), tf.ones([2, 2, 1, 1]), 0, "SAME")


TRANSPOSE_CASES = [
    # input (the conv's output), filter [h, w, out, in], output_shape, strides, padding
    ((2, 4, 3, 3), (3, 3, 5, 3), (2, 7, 6, 5), (2, 2), "SAME"),
    ((2, 4, 3, 3), (3, 3, 5, 3), (2, 8, 6, 5), (2, 2), "SAME"),
    ((1, 3, 3, 2), (3, 2, 1, 2), (1, 7, 6, 1), (2, 2), "VALID"),
    ((1, 3, 2, 2), (2, 2, 3, 2), (1, 9, 6, 3), (3, 3), "VALID"),
    ((1, 1, 1, 1), (1, 1, 2, 1), (1, 1, 1, 2), (1, 1), "SAME"),
    ((1, 5, 4, 2), (3, 3, 2, 2), (1, 5, 4, 2), (1, 1), "SAME"),
]


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize(*slow_except("ys,ws,out_shape,strides,padding", TRANSPOSE_CASES, every=3))
def test_conv2d_transpose_matches_loops(ys, ws, out_shape, strides, padding, target):
    y, w = RNG.normal(size=ys), RNG.normal(size=ws)
    p = tf.placeholder(tf.float64, [None, *ys[1:]])
    t = tf.nn.conv2d_transpose(p, w, out_shape, [1, *strides, 1], padding)
    assert t.name == "conv2d_transpose:0" and t.shape.as_list() == [None, *out_shape[1:]]
    np.testing.assert_allclose(run(t, {p: y}, target), np_conv2d_transpose(y, w, out_shape, strides, padding),
                               rtol=1e-10, atol=1e-12)


def test_conv2d_transpose_output_shape_from_the_batch_at_run_time():
    y, w = RNG.normal(size=(3, 4, 3, 3)), RNG.normal(size=(3, 3, 5, 3))
    p = tf.placeholder(tf.float64, [None, 4, 3, 3])
    t = tf.nn.conv2d_transpose(p, w, tf.stack([tf.shape(p)[0], 7, 6, 5]), [1, 2, 2, 1], "SAME")
    unknown = tf.nn.conv2d_transpose(p, w, tf.placeholder(tf.int32, [4]), [1, 2, 2, 1], "SAME")
    assert t.shape.as_list() == [None, 7, 6, 5] and unknown.shape.ndims == 4 and unknown.shape.dims == [None] * 4
    np.testing.assert_allclose(run(t, {p: y}), np_conv2d_transpose(y, w, (3, 7, 6, 5), (2, 2), "SAME"),
                               rtol=1e-10, atol=1e-12)


def test_conv2d_transpose_errors():
    y = tf.placeholder(tf.float32, [None, 4, 3, 3])
    with pytest.raises(ValueError, match="conv2d_transpose: output_shape does not match filter's output channels"):
        tf.nn.conv2d_transpose(y, tf.ones([3, 3, 5, 3]), [2, 7, 6, 4], [1, 2, 2, 1], "SAME")
    with pytest.raises(ValueError, match="input channels does not match"):
        tf.nn.conv2d_transpose(y, tf.ones([3, 3, 5, 2]), [2, 7, 6, 5], [1, 2, 2, 1], "SAME")
    with pytest.raises(ValueError, match="output_shape must have shape"):
        tf.nn.conv2d_transpose(y, tf.ones([3, 3, 5, 3]), [7, 6, 5], [1, 2, 2, 1], "SAME")
    # 9 rows at stride 2 make 5, not 4
    with pytest.raises(ValueError, match="Size of out_backprop doesn.t match computed: actual = 4, computed = 5"):
        tf.nn.conv2d_transpose(y, tf.ones([3, 3, 5, 3]), [2, 9, 6, 5], [1, 2, 2, 1], "SAME")


# gradients ----------------------------------------------------------------------------------
DEPTHWISE_GRAD_CASES = [
    ((2, 5, 5, 3), (3, 3, 3, 2), [1, 1, 1, 1], "SAME", None),
    ((2, 5, 5, 2), (3, 3, 2, 1), [1, 1, 1, 1], "VALID", None),
    ((1, 7, 6, 2), (3, 2, 2, 3), [1, 2, 2, 1], "SAME", None),
    ((1, 8, 7, 2), (3, 3, 2, 2), [1, 2, 3, 1], "VALID", None),
    ((1, 7, 7, 2), (3, 2, 2, 2), [1, 1, 1, 1], "SAME", [2, 2]),
    ((2, 3, 4, 1), (1, 1, 1, 3), [1, 1, 1, 1], "SAME", None),
]


@pytest.mark.parametrize(*slow_except("xs,ws,strides,padding,rate", DEPTHWISE_GRAD_CASES, 1))
def test_depthwise_conv2d_grads(xs, ws, strides, padding, rate):
    check_grad(lambda x, w: tf.nn.depthwise_conv2d(x, w, strides, padding, rate=rate),
               RNG.normal(size=xs), RNG.normal(size=ws), directions=3, rtol=1e-6)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.slow
def test_depthwise_grads_elementwise_unknown_dims_and_nchw(target):
    check_grad(lambda x, w: tf.nn.depthwise_conv2d(x, w, [1, 2, 2, 1], "SAME"), RNG.normal(size=(2, 5, 4, 2)),
               RNG.normal(size=(3, 3, 2, 2)), static=False, target=target)
    check_grad(lambda x, w: tf.nn.depthwise_conv2d(x, w, [1, 1, 2, 1], "VALID", data_format="NCHW"),
               RNG.normal(size=(2, 3, 5, 6)), RNG.normal(size=(2, 3, 3, 2)), directions=3, target=target)


@pytest.mark.slow
def test_depthwise_second_order_grads():
    """Gradients of the two backprop ops, by differentiating a gradient."""
    def input_grad(x, w):
        y = tf.nn.depthwise_conv2d(x, w, [1, 2, 2, 1], "SAME")
        return tf.gradients(tf.reduce_sum(tf.square(y)), x)[0]

    def filter_grad(x, w):
        y = tf.nn.depthwise_conv2d(x, w, [1, 2, 1, 1], "VALID")
        return tf.gradients(tf.reduce_sum(tf.square(y)), w)[0]

    x, w = RNG.normal(size=(2, 5, 5, 2)), RNG.normal(size=(3, 3, 2, 3))
    check_grad(input_grad, x, w, directions=2, rtol=1e-5)
    check_grad(filter_grad, x, w, directions=2, rtol=1e-5)


@pytest.mark.slow
def test_composite_conv_grads():
    """conv1d, separable_conv2d, atrous_conv2d and conv2d_transpose with an unknown batch, elementwise."""
    check_grad(lambda x, w: tf.nn.conv1d(x, w, 2, "SAME", dilations=1), RNG.normal(size=(2, 7, 2)),
               RNG.normal(size=(3, 2, 2)), static=False)
    check_grad(lambda x, d, p: tf.nn.separable_conv2d(x, d, p, [1, 1, 1, 1], "VALID", rate=2),
               RNG.normal(size=(1, 6, 5, 2)), RNG.normal(size=(2, 2, 2, 2)), RNG.normal(size=(1, 1, 4, 3)))
    check_grad(lambda x, w: tf.nn.atrous_conv2d(x, w, 2, "SAME"), RNG.normal(size=(1, 6, 5, 2)),
               RNG.normal(size=(2, 3, 2, 2)), directions=3)
    check_grad(lambda y, w: tf.nn.conv2d_transpose(y, w, tf.stack([tf.shape(y)[0], 7, 6, 2]), [1, 2, 2, 1],
                                                   "SAME"),
               RNG.normal(size=(2, 4, 3, 2)), RNG.normal(size=(3, 3, 2, 2)), static=False, directions=3)


# TensorFlow ---------------------------------------------------------------------------------
def test_values_match_tensorflow():
    """The same graphs built with TensorFlow's tf.compat.v1 give the same numbers (skipped without TF)."""
    real = pytest.importorskip("tensorflow").compat.v1
    x4, x3 = RNG.normal(size=(2, 9, 8, 3)), RNG.normal(size=(2, 9, 3))
    w1, dw, pw = RNG.normal(size=(3, 3, 4)), RNG.normal(size=(3, 3, 3, 2)), RNG.normal(size=(1, 1, 6, 4))
    wa, wt, yt = RNG.normal(size=(3, 2, 3, 4)), RNG.normal(size=(3, 3, 5, 3)), RNG.normal(size=(2, 5, 4, 3))

    def build(api):
        return [api.nn.conv1d(x3, w1, 2, "SAME"), api.nn.conv1d(x3, w1, 1, "VALID", dilations=2),
                api.nn.depthwise_conv2d(x4, dw, [1, 2, 2, 1], "SAME"),
                api.nn.depthwise_conv2d(x4, dw, [1, 1, 1, 1], "VALID", rate=[2, 3]),
                api.nn.separable_conv2d(x4, dw, pw, [1, 1, 1, 1], "SAME", rate=[2, 2]),
                api.nn.atrous_conv2d(x4, wa, 2, "SAME"), api.nn.atrous_conv2d(x4, wa, 3, "VALID"),
                api.nn.conv2d_transpose(yt, wt, [2, 9, 8, 5], [1, 2, 2, 1], "SAME"),
                api.nn.conv2d_transpose(yt, wt, [2, 11, 9, 5], [1, 2, 2, 1], "VALID")]

    with real.Graph().as_default():
        theirs = build(real)
        with real.Session() as s:
            want = s.run(theirs)
    ours = build(tf)
    assert [t.shape.as_list() for t in ours] == [t.shape.as_list() for t in theirs]
    for got, expected in zip(run(ours), want):
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-10)
