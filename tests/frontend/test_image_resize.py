"""tf.image resizing against TensorFlow's kernels: every method and pixel convention, shapes and dtypes as TF's
Python layer gives them, and the gradients (exact for these linear maps: the Jacobian is the forward map of
the basis images)."""
import os
import pickle
import subprocess

import numpy as np
import pytest

import xlite as tf

TARGETS = ["interpreter", "cpu"]
TF_PYTHON = "/tmp/tfvenv/bin/python"

# Made with TensorFlow 2.21 (tf.raw_ops.ResizeBilinear / ResizeNearestNeighbor / ResizeBicubic / ResizeArea)
# on X = arange(15).reshape(1, 3, 5, 1) ** 1.5 in float32; key: (method, size, align_corners,
# half_pixel_centers); value: result[0, :, :, 0].
EXPECTED = {
    ("bilinear", (2, 3), False, False): [
        [0.0, 2.2189512252807617, 6.130768299102783],
        [21.40155792236328, 28.559795379638672, 36.39706039428711]],
    ("bilinear", (4, 7), False, False): [
        [0.0, 0.7142857313156128, 1.7836116552352905, 3.166673421859741, 4.857906341552734, 6.798351764678955, 8.0],
        [8.385254859924316, 10.447718620300293, 12.697530746459961, 15.12191390991211, 17.74498748779297, 20.544116973876953, 22.25],
        [21.40155792236328, 24.393234252929688, 27.49911880493164, 30.716890335083008, 34.077640533447266, 37.57368469238281, 39.69160079956055],
        [31.62277603149414, 35.09427261352539, 38.66273498535156, 42.326786041259766, 46.114601135253906, 50.021331787109375, 52.383201599121094]],
    ("bilinear", (4, 7), True, False): [
        [0.0, 0.6666666865348816, 1.60947585105896, 2.8284270763397217, 4.4069108963012695, 6.130768775939941, 8.0],
        [7.453559875488281, 9.238715171813965, 11.184078216552734, 13.289648056030273, 15.641212463378906, 18.1002197265625, 20.666667938232422],
        [17.99448585510254, 20.637439727783203, 23.373693466186523, 26.2032470703125, 29.207082748413086, 32.29302215576172, 35.46106719970703],
        [31.62277603149414, 34.86283874511719, 38.178321838378906, 41.56922149658203, 45.10451889038086, 48.70917892456055, 52.383201599121094]],
    ("bilinear", (4, 7), False, True): [
        [0.0, 0.5714285373687744, 1.5224080085754395, 2.8284270763397217, 4.519659996032715, 6.397801399230957, 8.0],
        [6.987712383270264, 8.457926750183105, 10.439226150512695, 12.635821342468262, 15.10358715057373, 17.712539672851562, 19.875],
        [18.84625244140625, 21.143630981445312, 24.0943660736084, 27.163619995117188, 30.417604446411133, 33.776126861572266, 36.518699645996094],
        [31.62277603149414, 34.39997482299805, 37.93611526489258, 41.56922149658203, 45.35704040527344, 49.234039306640625, 52.383201599121094]],
    ("bilinear", (2, 3), False, True): [
        [3.338134765625, 6.751384735107422, 11.684656143188477],
        [28.020240783691406, 35.80698013305664, 44.295257568359375]],
    ("nearest", (2, 3), False, False): [
        [0.0, 1.0, 5.196152687072754],
        [11.180339813232422, 14.696938514709473, 22.627416610717773]],
    ("nearest", (4, 7), True, False): [
        [0.0, 1.0, 1.0, 2.8284270763397217, 5.196152687072754, 5.196152687072754, 8.0],
        [11.180339813232422, 14.696938514709473, 14.696938514709473, 18.5202579498291, 22.627416610717773, 22.627416610717773, 27.0],
        [11.180339813232422, 14.696938514709473, 14.696938514709473, 18.5202579498291, 22.627416610717773, 22.627416610717773, 27.0],
        [31.62277603149414, 36.482872009277344, 36.482872009277344, 41.56922149658203, 46.87216567993164, 46.87216567993164, 52.383201599121094]],
    ("nearest", (4, 7), False, True): [
        [0.0, 1.0, 1.0, 2.8284270763397217, 5.196152687072754, 5.196152687072754, 8.0],
        [11.180339813232422, 14.696938514709473, 14.696938514709473, 18.5202579498291, 22.627416610717773, 22.627416610717773, 27.0],
        [11.180339813232422, 14.696938514709473, 14.696938514709473, 18.5202579498291, 22.627416610717773, 22.627416610717773, 27.0],
        [31.62277603149414, 36.482872009277344, 36.482872009277344, 41.56922149658203, 46.87216567993164, 46.87216567993164, 52.383201599121094]],
    ("nearest", (2, 3), False, True): [
        [0.0, 2.8284270763397217, 8.0],
        [31.62277603149414, 41.56922149658203, 52.383201599121094]],
    ("bicubic", (4, 7), False, False): [
        [0.0, 0.5357502698898315, 1.686387062072754, 3.22137188911438, 4.71377420425415, 7.008894443511963, 8.306632041931152],
        [6.491255760192871, 8.20059871673584, 10.667805671691895, 13.170807838439941, 15.423992156982422, 18.663942337036133, 20.444366455078125],
        [22.44971466064453, 25.197057723999023, 28.90440559387207, 32.4019775390625, 35.45686340332031, 39.71897506713867, 42.02937316894531],
        [33.77881622314453, 36.88786315917969, 41.070072174072266, 44.99234390258789, 48.399322509765625, 53.12291717529297, 55.6761589050293]],
    ("bicubic", (4, 7), False, True): [
        [-0.6345624923706055, -0.21281281113624573, 0.6993077993392944, 2.008704662322998, 3.5854837894439697, 5.63622522354126, 7.165771484375],
        [5.428686618804932, 6.763309955596924, 8.863512992858887, 11.04625129699707, 13.419349670410156, 16.278003692626953, 18.343080520629883],
        [19.350839614868164, 21.64641761779785, 25.03378677368164, 28.22411346435547, 31.53785514831543, 35.372779846191406, 38.09263229370117],
        [32.40391540527344, 35.10609817504883, 39.07278060913086, 42.77327346801758, 46.58228302001953, 50.949790954589844, 54.03318405151367]],
    ("bicubic", (2, 3), True, False): [
        [0.0, 2.8284270763397217, 8.0],
        [31.62277603149414, 41.56922149658203, 52.383201599121094]],
    ("bicubic", (2, 3), False, True): [
        [1.998118281364441, 5.3017168045043945, 10.294355392456055],
        [29.103565216064453, 37.53858184814453, 46.68982696533203]],
    ("area", (2, 3), False, False): [
        [4.462326526641846, 8.149867057800293, 13.002631187438965],
        [26.573535919189453, 33.93403625488281, 41.8695182800293]],
    ("area", (4, 7), False, False): [
        [0.0, 0.6000000238418579, 1.3656851053237915, 2.828427314758301, 4.72260856628418, 6.317688941955566, 8.000001907348633],
        [7.453559875488281, 9.060199737548828, 10.762961387634277, 13.289648056030273, 16.111530303955078, 18.356855392456055, 20.666669845581055],
        [17.99448585510254, 20.373144149780273, 22.807777404785156, 26.2032470703125, 29.8078556060791, 32.60980987548828, 35.46107482910156],
        [31.62277603149414, 34.53883743286133, 37.50013732910156, 41.56922149658203, 45.81158447265625, 49.07655715942383, 52.38321304321289]],
    ("area", (2, 2), True, False): [
        [9.506192207336426, 17.5],
        [39.13676071166992, 52.383201599121094]],
}

X = np.arange(15, dtype=np.float32).reshape(1, 3, 5, 1) ** 1.5
OPS = {"bilinear": tf.image.resize_bilinear, "nearest": tf.image.resize_nearest_neighbor,
       "bicubic": tf.image.resize_bicubic}


def _resize(method, x, size, align_corners=False, half_pixel_centers=False):
    if method == "area":
        return tf.image.resize_area(x, size, align_corners=align_corners)
    return OPS[method](x, size, align_corners=align_corners, half_pixel_centers=half_pixel_centers)


@pytest.mark.parametrize("target", TARGETS)
def test_every_method_matches_tensorflow(target):
    keys = sorted(EXPECTED, key=str)
    outs = [_resize(m, X, size, ac, hp) for m, size, ac, hp in keys]
    with tf.Session(target) as s:
        got = s.run(outs)
    for key, value in zip(keys, got):
        assert value.dtype == np.float32 and value.shape == (1, *key[1], 1), key
        np.testing.assert_allclose(value[0, :, :, 0], EXPECTED[key], rtol=2e-6, atol=1e-6, err_msg=str(key))


def test_static_shapes_and_dtypes_follow_tf():
    u8 = tf.placeholder(tf.uint8, [None, 6, 7, 3])
    assert tf.image.resize_bilinear(u8, [3, 4]).dtype == tf.float32
    assert tf.image.resize_nearest_neighbor(u8, [3, 4]).dtype == tf.uint8
    assert tf.image.resize_bilinear(u8, [3, 4]).shape.as_list() == [None, 3, 4, 3]
    single = tf.placeholder(tf.float32, [6, 7, 3])
    assert tf.image.resize_images(single, [2, 9]).shape.as_list() == [2, 9, 3]
    assert tf.image.resize_images_v2(single, [2, 9], method="bicubic").shape.as_list() == [2, 9, 3]
    # TF1's resize_images hands back the images themselves when the size does not change.
    assert tf.image.resize_images(u8, [6, 7]) is u8
    assert tf.image.resize_images_v2(u8, [6, 7]).dtype == tf.float32
    assert tf.image.resize_images(u8, [3, 3], method=tf.image.ResizeMethod.NEAREST_NEIGHBOR).dtype == tf.uint8
    with pytest.raises(ValueError, match="3 or 4 dimensions"):
        tf.image.resize_images(tf.placeholder(tf.float32, [6, 7]), [2, 2])
    with pytest.raises(ValueError, match="Resize method is not implemented"):
        tf.image.resize_images(single, [2, 2], method=7)
    assert tf.image.resize_images_v2(single, [2, 2], method="lanczos3").op.inputs[0].op.type == "ScaleAndTranslate"


def test_unbatched_uint8_and_unknown_batch_run():
    img = np.arange(5 * 4 * 3, dtype=np.uint8).reshape(5, 4, 3) * 4
    x = tf.placeholder(tf.uint8, [None, None, 3])
    y = tf.image.resize_images(x, [3, 7])
    assert y.shape.as_list() == [3, 7, 3] and y.dtype == tf.float32
    with tf.Session() as s:
        got = s.run(y, {x: img})
    want = tf.image.resize_bilinear(img[None].astype(np.float32), [3, 7])
    with tf.Session() as s:
        np.testing.assert_allclose(got, s.run(want)[0], rtol=1e-6)


def test_v2_uses_half_pixel_centers_and_v1_does_not():
    with tf.Session() as s:
        v2, v1 = s.run([tf.image.resize_images_v2(X, [4, 7]), tf.image.resize_images(X, [4, 7])])
    np.testing.assert_allclose(v2[0, :, :, 0], EXPECTED[("bilinear", (4, 7), False, True)], rtol=2e-6)
    np.testing.assert_allclose(v1[0, :, :, 0], EXPECTED[("bilinear", (4, 7), False, False)], rtol=2e-6)


def test_align_corners_with_half_pixel_centers_is_an_error():
    y = tf.image.resize_bilinear(X, [4, 4], align_corners=True, half_pixel_centers=True)
    with tf.Session() as s, pytest.raises(tf.errors.InvalidArgumentError, match="half_pixel_centers"):
        s.run(y)


def _jacobian(method, shape, size, ac, hp):
    """The resize as a matrix: column i is the resize of basis image i (interpreter target)."""
    basis = np.eye(int(np.prod(shape)), dtype=np.float32).reshape(-1, *shape[1:])
    with tf.Session("interpreter") as s:
        out = s.run(_resize(method, basis, size, ac, hp))
    return out.reshape(out.shape[0], -1).T.reshape(-1, basis.shape[0])


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("method", ["bilinear", "nearest", "bicubic"])
@pytest.mark.parametrize("shape,size,ac,hp", [pytest.param((1, 3, 5, 1), (4, 7), False, False, marks=pytest.mark.slow),
                                              ((1, 4, 4, 1), (2, 3), True, False),
                                              pytest.param((1, 5, 3, 1), (3, 6), False, True, marks=pytest.mark.slow),
                                              ((1, 1, 1, 1), (2, 3), False, True)])
def test_gradient_is_the_transposed_map(target, method, shape, size, ac, hp):
    jac = _jacobian(method, shape, size, ac, hp)
    rng = np.random.default_rng(3)
    x = tf.placeholder(tf.float32, shape)
    y = _resize(method, x, size, ac, hp)
    w = rng.normal(size=y.shape.as_list()).astype(np.float32)
    (g,) = tf.gradients(tf.reduce_sum(y * w), [x])
    assert g.shape.as_list() == list(shape)
    with tf.Session(target) as s:
        got = s.run(g, {x: rng.normal(size=shape).astype(np.float32)})
    np.testing.assert_allclose(got.reshape(-1), jac.T @ w.reshape(-1), rtol=1e-5, atol=1e-5)


def test_batched_gradient_of_a_float64_image():
    x = tf.placeholder(tf.float64, [2, 3, 4, 2])
    (g,) = tf.gradients(tf.reduce_sum(tf.image.resize_bilinear(x, [5, 2])), [x])
    assert g.dtype == tf.float64
    with tf.Session() as s:
        got = s.run(g, {x: np.zeros([2, 3, 4, 2])})
    # Each output pixel's bilinear weights sum to 1, so the gradient of the sum spreads 5*2 units per image.
    np.testing.assert_allclose(got.sum(axis=(1, 2)), np.full((2, 2), 10.0), rtol=1e-6)


def test_area_has_no_gradient_as_in_tf():
    x = tf.placeholder(tf.float32, [1, 4, 4, 1])
    with pytest.raises(LookupError):
        tf.gradients(tf.reduce_sum(tf.image.resize_area(x, [2, 2])), [x])


_TF_SCRIPT = r"""
import pickle, sys
import numpy as np
import tensorflow as tf
cases = pickle.loads(sys.stdin.buffer.read())
R = tf.raw_ops
out = []
for method, x, size, ac, hp in cases:
    if method == "area":
        out.append(R.ResizeArea(images=x, size=size, align_corners=ac).numpy())
    else:
        op = {"bilinear": R.ResizeBilinear, "nearest": R.ResizeNearestNeighbor, "bicubic": R.ResizeBicubic}[method]
        out.append(op(images=x, size=size, align_corners=ac, half_pixel_centers=hp).numpy())
sys.stdout.buffer.write(pickle.dumps(out))
"""


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists(TF_PYTHON), reason="TensorFlow at /tmp/tfvenv is not installed")
def test_grid_of_sizes_against_live_tensorflow():
    """1x1, odd, square, up and down, every convention, batched with 3 channels, against TF run now."""
    rng = np.random.default_rng(5)
    cases = []
    for shape in [(1, 1), (3, 5), (4, 4), (6, 7)]:
        x = rng.uniform(-1, 2, (2, *shape, 3)).astype(np.float32)
        for size in [(1, 1), (2, 3), (7, 5), (6, 9), (3, 2)]:
            for ac, hp in ((False, False), (True, False), (False, True)):
                for method in ("bilinear", "nearest", "bicubic") + (() if hp else ("area",)):
                    cases.append((method, x, size, ac, hp))
    done = subprocess.run([TF_PYTHON, "-c", _TF_SCRIPT], input=pickle.dumps(cases), capture_output=True,
                          check=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    want = pickle.loads(done.stdout)
    with tf.Session() as s:
        got = s.run([_resize(m, x, size, ac, hp) for m, x, size, ac, hp in cases])
    for case, g, w in zip(cases, got, want):
        np.testing.assert_allclose(g, w, rtol=2e-6, atol=2e-6, err_msg=str((case[0], case[2:], case[1].shape)))


@pytest.mark.slow
def test_cuda_kernels_on_the_emulator(emulated):
    """The CUDA backend's code for the same gathers and sums, run on the CPU emulator."""
    keys = sorted(EXPECTED, key=str)
    x = tf.placeholder(tf.float32, [1, 3, 5, 1])
    ys = [_resize(m, x, size, ac, hp) for m, size, ac, hp in keys]
    (g,) = tf.gradients(tf.add_n([tf.reduce_sum(y) for y in ys if y.op.type != "ResizeArea"]), [x])
    with tf.Session("cuda") as s:
        got = s.run(ys + [g], {x: X})
    for key, value in zip(keys, got):
        np.testing.assert_allclose(value[0, :, :, 0], EXPECTED[key], rtol=2e-6, atol=1e-6, err_msg=str(key))
    with tf.Session("interpreter") as s:
        np.testing.assert_allclose(got[-1], s.run(g, {x: X}), rtol=1e-5)


# Made with TensorFlow 2.21: tf.image.resize_with_pad(PAD_X, h, w) and, marked 'v1',
# tf.compat.v1.image.resize_image_with_pad(PAD_X, h, w), [..., 0] rounded to 5 places.
PAD_X = np.arange(5 * 3, dtype=np.float32).reshape(5, 3, 1) ** 1.5
WITH_PAD = {
    (4, 4): [[0.95589, 3.37306, 0.0, 0.0], [9.55548, 14.59102, 0.0, 0.0], [23.4671, 30.14264, 0.0, 0.0], [41.05255, 49.03825, 0.0, 0.0]],
    (4, 4, 'v1'): [[0.0, 1.91421, 0.0, 0.0], [7.57135, 12.33609, 0.0, 0.0], [20.84847, 27.31333, 0.0, 0.0], [37.92692, 45.73397, 0.0, 0.0]],
    (7, 3): [[0.0, 0.0, 0.0], [0.0, 1.0, 2.82843], [5.19615, 8.0, 11.18034], [14.69694, 18.52026, 22.62742], [27.0, 31.62278, 36.48287], [41.56922, 46.87217, 52.3832], [0.0, 0.0, 0.0]],
    (7, 3, 'v1'): [[0.0, 0.0, 0.0], [0.0, 1.0, 2.82843], [5.19615, 8.0, 11.18034], [14.69694, 18.52026, 22.62742], [27.0, 31.62278, 36.48287], [41.56922, 46.87217, 52.3832], [0.0, 0.0, 0.0]],
    (3, 8): [[0.0, 0.0, 0.0, 3.33333, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 18.52026, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 41.78903, 0.0, 0.0, 0.0, 0.0]],
    (3, 8, 'v1'): [[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 11.53001, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 31.85641, 0.0, 0.0, 0.0, 0.0]],
}


def test_resize_with_pad_matches_tensorflow():
    keys = sorted(WITH_PAD, key=str)
    outs = [(tf.image.resize_image_with_pad if len(k) == 3 else tf.image.resize_with_pad)(PAD_X, k[0], k[1])
            for k in keys]
    with tf.Session() as s:
        got = s.run(outs)
    for key, value in zip(keys, got):
        assert value.shape == (key[0], key[1], 1), key
        np.testing.assert_allclose(value[..., 0], WITH_PAD[key], atol=1e-5, err_msg=str(key))


def test_preserve_aspect_ratio_sizes_are_tfs():
    # TensorFlow 2.21's tf.image.resize(..., preserve_aspect_ratio=True) gives these shapes.
    for shape, size, want in [((5, 3, 1), [4, 4], [4, 2, 1]), ((5, 3, 1), [10, 9], [10, 6, 1]),
                              ((5, 7, 1), [3, 5], [3, 4, 1])]:
        x = np.zeros(shape, np.float32)
        assert tf.image.resize_images_v2(x, size, preserve_aspect_ratio=True).shape.as_list() == want
        assert tf.image.resize_images(x, size, preserve_aspect_ratio=True).shape.as_list() == want


# Made with TensorFlow 2.21: tf.image.resize(X, size, method, antialias)[0, :, :, 0] (ScaleAndTranslate).
SCALED = {
    ("bilinear", (2, 3), True): [
        [5.025652885437012, 8.811421394348145, 13.671234130859375],
        [25.82384490966797, 32.9796028137207, 40.68560028076172]],
    ("bicubic", (2, 2), True): [
        [4.762335300445557, 10.838218688964844],
        [28.79897117614746, 39.859336853027344]],
    ("lanczos3", (2, 3), True): [
        [2.89572811126709, 6.587436676025391, 11.654632568359375],
        [26.801809310913086, 34.72444152832031, 43.26277160644531]],
    ("lanczos5", (4, 7), False): [
        [0.19695442914962769, 0.4864066243171692, 1.7824041843414307, 2.889835834503174, 4.126227378845215, 6.772160530090332, 8.136853218078613],
        [2.4970667362213135, 3.4208149909973145, 5.9202117919921875, 7.506731033325195, 9.196054458618164, 12.657058715820312, 14.335126876831055],
        [21.87580108642578, 23.960094451904297, 28.79757308959961, 31.432544708251953, 34.12912368774414, 39.416500091552734, 41.83937072753906],
        [32.12296676635742, 34.32439422607422, 39.472328186035156, 42.30705642700195, 45.20288848876953, 50.85771942138672, 53.449459075927734]],
    ("gaussian", (2, 4), True): [
        [6.056449890136719, 8.632777214050293, 12.27748966217041, 15.95464038848877],
        [23.83903694152832, 28.574594497680664, 34.33868408203125, 39.68918228149414]],
    ("mitchellcubic", (4, 6), True): [
        [0.09077040106058121, 0.7854005694389343, 2.113878011703491, 3.883439779281616, 6.068193435668945, 8.055619239807129],
        [6.257248401641846, 8.008255004882812, 10.441804885864258, 13.121230125427246, 16.14964485168457, 18.781383514404297],
        [19.470861434936523, 22.358280181884766, 26.033483505249023, 29.783672332763672, 33.830902099609375, 37.25337600708008],
        [31.602582931518555, 35.00731658935547, 39.29689407348633, 43.620018005371094, 48.23444747924805, 52.10761260986328]],
    ("lanczos3", (1, 1), True): [
        [21.110992431640625]],
}


@pytest.mark.parametrize("target", TARGETS)
def test_antialiased_and_scale_and_translate_methods_match_tensorflow(target):
    keys = sorted(SCALED, key=str)
    with tf.Session(target) as s:
        got = s.run([tf.image.resize_images_v2(X, size, m, antialias=aa) for m, size, aa in keys])
    for key, value in zip(keys, got):
        np.testing.assert_allclose(value[0, :, :, 0], SCALED[key], rtol=2e-6, atol=2e-6, err_msg=str(key))


@pytest.mark.parametrize("method", ["bilinear", "lanczos3"])
def test_antialiased_gradient_is_the_transposed_map(method):
    shape, size = (1, 5, 6, 1), (2, 3)
    basis = np.eye(30, dtype=np.float32).reshape(30, 5, 6, 1)
    with tf.Session("interpreter") as s:
        jac = s.run(tf.image.resize_images_v2(basis, size, method, antialias=True)).reshape(30, -1).T
    x = tf.placeholder(tf.float32, shape)
    y = tf.image.resize_images_v2(x, size, method, antialias=True)
    w = np.random.default_rng(2).normal(size=(1, 2, 3, 1)).astype(np.float32)
    (g,) = tf.gradients(tf.reduce_sum(y * w), [x])
    with tf.Session() as s:
        got = s.run(g, {x: np.zeros(shape, np.float32)})
    np.testing.assert_allclose(got.reshape(-1), jac.T @ w.reshape(-1), rtol=1e-5, atol=1e-6)
