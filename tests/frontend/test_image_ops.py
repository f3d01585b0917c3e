"""tf.image's geometry and value ops against NumPy references (and TensorFlow's numbers where the formula is
TF's own choice), unbatched and batched, with gradients by finite differences."""
import numpy as np
import pytest

import xlite as tf
import gradcheck

TARGETS = ["interpreter", "cpu"]
RNG = np.random.default_rng(7)
IMG3 = RNG.uniform(0, 1, (5, 4, 3)).astype(np.float32)
IMG4 = RNG.uniform(0, 1, (2, 5, 4, 3)).astype(np.float32)


def _run(target, t, feed=None):
    with tf.Session(target) as s:
        return s.run(t, feed)


def _geometry(x):
    """(tf.image result, NumPy reference) pairs; axis 0 of a batch is the image index."""
    lead = x.ndim - 3
    h, w = lead, lead + 1
    return [
        (tf.image.flip_left_right(x), np.flip(x, w)),
        (tf.image.flip_up_down(x), np.flip(x, h)),
        (tf.image.transpose_image(x), np.swapaxes(x, h, w)),
        (tf.image.rot90(x), np.rot90(x, 1, axes=(h, w))),
        (tf.image.rot90(x, k=2), np.rot90(x, 2, axes=(h, w))),
        (tf.image.rot90(x, k=-1), np.rot90(x, 3, axes=(h, w))),
        (tf.image.rot90(x, k=tf.constant(4)), x),
        (tf.image.crop_to_bounding_box(x, 1, 2, 3, 2), x[..., 1:4, 2:4, :]),
        (tf.image.pad_to_bounding_box(x, 1, 2, 7, 7),
         np.pad(x, [(0, 0)] * lead + [(1, 1), (2, 1), (0, 0)])),
        # 5x4 to 3x7: height cropped from row 1, width padded by 1 before and 2 after, as TF centers them.
        (tf.image.resize_image_with_crop_or_pad(x, 3, 7),
         np.pad(x[..., 1:4, :, :], [(0, 0)] * lead + [(0, 0), (1, 2), (0, 0)])),
        (tf.image.resize_with_crop_or_pad(x, 5, 4), x),
        # TF: start = int((5 - 5 * 0.5) / 2) = 1, size 5 - 2 = 3; width: int((4 - 2) / 2) = 1, size 2.
        (tf.image.central_crop(x, 0.5), x[..., 1:4, 1:3, :]),
        (tf.image.central_crop(x, 1.0), x),
    ]


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("image", [IMG3, IMG4], ids=["unbatched", "batched"])
def test_geometry_matches_numpy(target, image):
    pairs = _geometry(image)
    got = _run(target, [t for t, _ in pairs])
    for (t, want), value in zip(pairs, got):
        assert t.shape.as_list() == list(want.shape), t.name
        np.testing.assert_array_equal(value, want, err_msg=t.name)


def test_one_pixel_images():
    x = np.full((1, 1, 3), 0.25, np.float32)
    got = _run("cpu", [tf.image.flip_left_right(x), tf.image.rot90(x), tf.image.central_crop(x, 0.3),
                       tf.image.resize_with_crop_or_pad(x, 3, 2)])
    for value in got[:3]:
        np.testing.assert_array_equal(value, x)
    np.testing.assert_array_equal(got[3], np.pad(x, [(1, 1), (0, 1), (0, 0)]))


def test_ops_are_tfs():
    x = tf.placeholder(tf.float32, [5, 4, 3])
    assert tf.image.flip_left_right(x).op.type == "ReverseV2"
    assert tf.image.crop_to_bounding_box(x, 0, 0, 2, 2).op.inputs[0].op.type == "Slice"


def test_bounding_box_errors_are_tfs():
    x = tf.placeholder(tf.float32, [5, 4, 3])
    with pytest.raises(ValueError, match="width must be >= target \\+ offset"):
        tf.image.crop_to_bounding_box(x, 0, 2, 2, 3)
    with pytest.raises(ValueError, match="offset_height must be >= 0"):
        tf.image.crop_to_bounding_box(x, -1, 0, 2, 2)
    with pytest.raises(ValueError, match="height must be <= target - offset"):
        tf.image.pad_to_bounding_box(x, 1, 0, 5, 4)
    with pytest.raises(ValueError, match="central_fraction must be within"):
        tf.image.central_crop(x, 0.0)
    with pytest.raises(ValueError, match="must be at least three-dimensional"):
        tf.image.flip_left_right(tf.placeholder(tf.float32, [4, 3]))


def test_seeded_random_flips_are_deterministic_and_flip_or_not():
    x = tf.constant(IMG3)
    batch = tf.constant(np.stack([IMG3] * 8))
    ys = [tf.image.random_flip_left_right(x, seed=3), tf.image.random_flip_up_down(x, seed=4),
          tf.image.random_flip_left_right(batch, seed=5)]
    with tf.Session() as s:
        runs = [s.run(ys) for _ in range(6)]
    with tf.Session() as s:
        again = s.run(ys)
    for a, b in zip(runs[0], again):
        np.testing.assert_array_equal(a, b)     # a new session draws the same sequence
    seen = set()
    for lr, ud, many in runs:
        assert np.array_equal(lr, IMG3) or np.array_equal(lr, IMG3[:, ::-1])
        assert np.array_equal(ud, IMG3) or np.array_equal(ud, IMG3[::-1])
        for image in many:
            flipped = np.array_equal(image, IMG3[:, ::-1])
            assert flipped or np.array_equal(image, IMG3)
            seen.add(flipped)
    assert seen == {True, False}, "a batch of 8 over 6 runs should see both outcomes"


U8 = RNG.integers(0, 256, (5, 4, 3)).astype(np.uint8)


@pytest.mark.parametrize("target", TARGETS)
def test_convert_image_dtype(target):
    f = IMG3 * 1.2 - 0.1
    got = _run(target, [tf.image.convert_image_dtype(U8, tf.float32),
                        tf.image.convert_image_dtype(IMG3, tf.uint8),
                        tf.image.convert_image_dtype(f, tf.uint8, saturate=True),
                        tf.image.convert_image_dtype(U8, tf.int8),
                        tf.image.convert_image_dtype(np.array([[[1000000000], [5]]], np.int32), tf.uint8),
                        tf.image.convert_image_dtype(np.array([[[1], [127]]], np.int8), tf.int32)])
    np.testing.assert_allclose(got[0], U8.astype(np.float32) * np.float32(1 / 255), rtol=1e-7)
    np.testing.assert_array_equal(got[1], (IMG3 * np.float32(255.5)).astype(np.uint8))
    np.testing.assert_array_equal(got[2], np.clip(f * np.float32(255.5), 0, 255).astype(np.uint8))
    np.testing.assert_array_equal(got[3], (U8 // 2).astype(np.int8))          # (255 + 1) // (127 + 1)
    np.testing.assert_array_equal(got[4].ravel(), [119, 0])                   # // 2**23, as TF floors
    np.testing.assert_array_equal(got[5].ravel(), [1 << 24, 127 << 24])       # (2**31) // 128
    assert tf.image.convert_image_dtype(U8, tf.float32).dtype == tf.float32
    with pytest.raises(AttributeError):
        tf.image.convert_image_dtype(IMG3, tf.bool)


@pytest.mark.parametrize("target", TARGETS)
def test_value_ops(target):
    got = _run(target, [tf.image.adjust_brightness(IMG4, 0.3), tf.image.adjust_brightness(U8, 0.3),
                        tf.image.rgb_to_grayscale(IMG4), tf.image.rgb_to_grayscale(U8),
                        tf.image.per_image_standardization(IMG4), tf.image.per_image_standardization(U8),
                        tf.image.grayscale_to_rgb(IMG4[..., :1])])
    np.testing.assert_allclose(got[0], IMG4 + np.float32(0.3), rtol=1e-7)
    u8f = U8 * np.float32(1 / 255)
    np.testing.assert_array_equal(got[1], np.clip((u8f + np.float32(0.3)) * np.float32(255.5), 0, 255)
                                  .astype(np.uint8))
    luma = np.array([0.2989, 0.5870, 0.1140], np.float32)
    np.testing.assert_allclose(got[2], (IMG4 @ luma)[..., None], rtol=1e-6)
    assert got[3].dtype == np.uint8 and got[3].shape == (5, 4, 1)
    np.testing.assert_array_equal(got[3], ((u8f @ luma) * np.float32(255.5)).astype(np.uint8)[..., None])
    for value, image in ((got[4], IMG4), (got[5], U8[None].astype(np.float32))):
        axes = (-3, -2, -1)
        mean = image.mean(axis=axes, keepdims=True)
        std = np.maximum(image.std(axis=axes, keepdims=True), 1 / np.sqrt(np.prod(image.shape[-3:])))
        np.testing.assert_allclose(value.reshape(image.shape), (image - mean) / std, rtol=2e-5, atol=2e-6)
    np.testing.assert_array_equal(got[6], np.repeat(IMG4[..., :1], 3, axis=-1))


def test_standardization_of_a_constant_image_uses_the_minimum_stddev():
    got = _run("cpu", tf.image.per_image_standardization(np.full((2, 2, 1), 3.0, np.float32)))
    np.testing.assert_array_equal(got, np.zeros((2, 2, 1), np.float32))


@pytest.mark.parametrize("fn", [
    lambda x: tf.image.flip_left_right(x), lambda x: tf.image.rot90(x, 3),
    lambda x: tf.image.crop_to_bounding_box(x, 1, 0, 2, 2), lambda x: tf.image.pad_to_bounding_box(x, 1, 1, 5, 4),
    lambda x: tf.image.central_crop(x, 0.6), lambda x: tf.image.resize_with_crop_or_pad(x, 2, 5),
    lambda x: tf.image.transpose_image(x),
], ids=["flip", "rot90", "crop", "pad", "central_crop", "crop_or_pad", "transpose"])
def test_geometry_gradients(fn):
    gradcheck.check_grad(fn, RNG.normal(size=(3, 3, 2)), target="interpreter")


@pytest.mark.parametrize("target", TARGETS)
def test_value_gradients(target):
    """Brightness is x + delta and grayscale a fixed weighted sum (float32, as TF computes them)."""
    x = tf.placeholder(tf.float32, [2, 3, 3])
    w = RNG.normal(size=(2, 3, 1)).astype(np.float32)
    g_bright, g_gray = tf.gradients(tf.reduce_sum(tf.image.adjust_brightness(x, 0.5)), [x])[0], \
        tf.gradients(tf.reduce_sum(tf.image.rgb_to_grayscale(x) * w), [x])[0]
    got = _run(target, [g_bright, g_gray], {x: IMG3[:2, :3]})
    np.testing.assert_array_equal(got[0], np.ones((2, 3, 3), np.float32))
    np.testing.assert_allclose(got[1], w * np.array([0.2989, 0.5870, 0.1140], np.float32), rtol=1e-6)


def test_standardization_of_images_of_unknown_size():
    x = tf.placeholder(tf.float32, [None, None, None, 3])
    got = _run("cpu", tf.image.per_image_standardization(x), {x: IMG4})
    mean = IMG4.mean(axis=(1, 2, 3), keepdims=True)
    np.testing.assert_allclose(got, (IMG4 - mean) / IMG4.std(axis=(1, 2, 3), keepdims=True), rtol=2e-5, atol=2e-6)


# Made with TensorFlow 2.21 on X = (arange(48).reshape(2, 3, 4, 2) ** 1.3) / 40 and
# U8 = (arange(36).reshape(3, 4, 3) * 7 % 256) as uint8.
XD = (np.arange(2 * 3 * 4 * 2, dtype=np.float32).reshape(2, 3, 4, 2) ** 1.3) / 40
U8D = (np.arange(3 * 4 * 3).reshape(3, 4, 3) * 7 % 256).astype(np.uint8)
TV4 = [10.722606658935547, 15.511576652526855]
TV3 = 10.722606658935547
DY_SUM = 30.59319305419922
DX_SUM = 10.225607872009277
GAMMA_U8 = [[0, 57, 93, 124], [152, 178, 202, 225], [248, 255, 255, 255]]
GAMMA_F = [[0.0002689740795176476, 0.006226975936442614, 0.026838889345526695, 0.07025718688964844], [0.1441597193479538, 0.255913645029068, 0.41265618801116943, 0.6213428974151611], [0.8887799382209778, 1.2216469049453735, 1.626513123512268, 2.1098520755767822]]


@pytest.mark.parametrize("target", TARGETS)
def test_differences_and_gamma_match_tensorflow(target):
    dy, dx = tf.image.image_gradients(XD)
    got = _run(target, [tf.image.total_variation(XD), tf.image.total_variation(XD[0]), tf.reduce_sum(dy * XD),
                        tf.reduce_sum(dx * XD), tf.image.adjust_gamma(U8D, 0.7, 1.3),
                        tf.image.adjust_gamma(XD[0], 2.2, 0.9)])
    np.testing.assert_allclose(got[0], TV4, rtol=1e-6)
    np.testing.assert_allclose(got[1], TV3, rtol=1e-6)
    np.testing.assert_allclose(got[2:4], [DY_SUM, DX_SUM], rtol=1e-6)
    assert got[4].dtype == np.uint8
    np.testing.assert_array_equal(got[4][..., 0], GAMMA_U8)
    np.testing.assert_allclose(got[5][..., 1], GAMMA_F, rtol=2e-6)
    with pytest.raises(ValueError, match="Gamma should be a non-negative"):
        tf.image.adjust_gamma(XD, -1.0)


def test_total_variation_gradient():
    gradcheck.check_grad(lambda x: tf.image.total_variation(x), RNG.normal(size=(3, 4, 2)), target="interpreter")


# Made with TensorFlow 2.21: tf.image.psnr(PSNR_A, PSNR_B, 255) and of the images / 255 with max_val 1.0.
PSNR_A = (np.arange(2 * 4 * 3 * 3).reshape(2, 4, 3, 3) * 5 % 256).astype(np.uint8)
PSNR_B = (np.arange(2 * 4 * 3 * 3).reshape(2, 4, 3, 3) * 7 % 256).astype(np.uint8)
PSNR_U8 = [15.938450813293457, 5.031521320343018]
PSNR_F = [15.938451766967773, 5.031522274017334]


def test_psnr_matches_tensorflow():
    fa, fb = (PSNR_A / np.float32(255)).astype(np.float32), (PSNR_B / np.float32(255)).astype(np.float32)
    got = _run("cpu", [tf.image.psnr(PSNR_A, PSNR_B, 255), tf.image.psnr(fa, fb, 1.0)])
    np.testing.assert_allclose(got[0], PSNR_U8, rtol=1e-6)
    np.testing.assert_allclose(got[1], PSNR_F, rtol=1e-6)
    with pytest.raises(ValueError, match="compatible"):
        tf.image.psnr(fa, fb[:, :2], 1.0)
