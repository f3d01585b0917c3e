"""tf.image colour ops against TensorFlow's kernels: RGB <-> HSV, contrast, saturation and hue, with the
edge colours (grey, black, ties between channels, pure red) and uint8 images."""
import numpy as np
import pytest

import xlite as tf

TARGETS = ["interpreter", "cpu"]
PIX = [[0.5, 0.5, 0.5], [0.2, 0.7, 0.7], [0.9, 0.9, 0.1], [0.0, 0.0, 0.0], [0.3, 0.3, 0.9], [1.0, 0.0, 0.0],
       [0.4, 0.1, 0.4], [0.13, 0.62, 0.27], [0.81, 0.35, 0.52], [0.05, 0.44, 0.93]]
X = np.array(PIX, np.float32).reshape(2, 5, 3)

# Made with TensorFlow 2.21: tf.image.rgb_to_hsv(X), hsv_to_rgb(X), adjust_contrast(X, 1.7),
# adjust_saturation(X, 0.4 and 2.5), adjust_hue(X, 0.35 and -0.8), one row per pixel.
HSV = [
    [0.0, 0.0, 0.5],
    [0.5, 0.7142857313156128, 0.699999988079071],
    [0.1666666716337204, 0.8888888359069824, 0.8999999761581421],
    [0.0, 0.0, 0.0],
    [0.6666666865348816, 0.6666666269302368, 0.8999999761581421],
    [0.0, 1.0, 1.0],
    [0.8333333134651184, 0.75, 0.4000000059604645],
    [0.380952388048172, 0.7903226017951965, 0.6200000047683716],
    [0.9384058117866516, 0.5679012537002563, 0.8100000023841858],
    [0.5928030610084534, 0.9462365508079529, 0.9300000071525574]]
RGB_OF_HSV = [
    [0.25, 0.5, 0.5],
    [0.6019999384880066, 0.699999988079071, 0.21000000834465027],
    [0.10000000149011612, 0.010000002570450306, 0.06400003284215927],
    [0.0, 0.0, 0.0],
    [0.6839999556541443, 0.8999999761581421, 0.6299999952316284],
    [0.0, 0.0, 0.0],
    [0.35999998450279236, 0.4000000059604645, 0.3760000169277191],
    [0.27000001072883606, 0.23317201435565948, 0.10260000079870224],
    [0.494519978761673, 0.33799996972084045, 0.5199999809265137],
    [0.9300000071525574, 0.643559992313385, 0.520799994468689]]
CONTRAST_1_7 = [
    [0.5497000217437744, 0.5763000249862671, 0.5476000308990479],
    [0.03970000147819519, 0.9162999391555786, 0.8876000046730042],
    [1.229699969291687, 1.2562999725341797, -0.1324000358581543],
    [-0.3003000319004059, -0.2737000286579132, -0.30239999294281006],
    [0.20970001816749573, 0.2363000214099884, 1.2275999784469604],
    [1.3996999263763428, -0.2737000286579132, -0.30239999294281006],
    [0.3797000050544739, -0.10370001196861267, 0.3776000142097473],
    [-0.07930001616477966, 0.7803000211715698, 0.15660002827644348],
    [1.07669997215271, 0.3212999701499939, 0.5815999507904053],
    [-0.21529999375343323, 0.47429999709129333, 1.2785999774932861]]
SATURATION_0_4 = [
    [0.5, 0.5, 0.5],
    [0.5, 0.699999988079071, 0.699999988079071],
    [0.8999999761581421, 0.8999999761581421, 0.5800000429153442],
    [0.0, 0.0, 0.0],
    [0.6599999666213989, 0.6599999666213989, 0.8999999761581421],
    [1.0, 0.6000000238418579, 0.6000000238418579],
    [0.4000000059604645, 0.2800000011920929, 0.4000000059604645],
    [0.42399996519088745, 0.6200000047683716, 0.47999998927116394],
    [0.8100000023841858, 0.6259999871253967, 0.6939999461174011],
    [0.578000009059906, 0.7340000867843628, 0.9300000071525574]]
SATURATION_2_5 = [
    [0.5, 0.5, 0.5],
    [0.0, 0.699999988079071, 0.699999988079071],
    [0.8999999761581421, 0.8999999761581421, 0.0],
    [0.0, 0.0, 0.0],
    [0.0, 0.0, 0.8999999761581421],
    [1.0, 0.0, 0.0],
    [0.4000000059604645, 0.0, 0.4000000059604645],
    [0.0, 0.6200000047683716, 0.1771429181098938],
    [0.8100000023841858, 0.0, 0.2993476688861847],
    [0.0, 0.412159264087677, 0.9300000071525574]]
HUE_0_35 = [
    [0.5, 0.5, 0.5],
    [0.699999988079071, 0.20000000298023224, 0.6500000357627869],
    [0.10000000149011612, 0.8200000524520874, 0.8999999761581421],
    [0.0, 0.0, 0.0],
    [0.8999999761581421, 0.35999995470046997, 0.30000001192092896],
    [0.0, 1.0, 0.10000038146972656],
    [0.37000003457069397, 0.4000000059604645, 0.10000000149011612],
    [0.31900012493133545, 0.12999999523162842, 0.6200000047683716],
    [0.473999947309494, 0.8100000023841858, 0.3499999940395355],
    [0.9300000071525574, 0.05000000074505806, 0.35199981927871704]]
HUE_MINUS_0_8 = [
    [0.5, 0.5, 0.5],
    [0.2999998927116394, 0.20000000298023224, 0.699999988079071],
    [0.10000000149011612, 0.8999999761581421, 0.2599998414516449],
    [0.0, 0.0, 0.0],
    [0.8999999761581421, 0.30000001192092896, 0.7800000905990601],
    [0.8000001907348633, 1.0, 0.0],
    [0.4000000059604645, 0.15999995172023773, 0.10000000149011612],
    [0.12999999523162842, 0.38200002908706665, 0.6200000047683716],
    [0.8100000023841858, 0.7319999933242798, 0.3499999940395355],
    [0.7159996628761292, 0.05000000074505806, 0.9300000071525574]]

CASES = {
    "HSV": lambda x: tf.image.rgb_to_hsv(x), "RGB_OF_HSV": lambda x: tf.image.hsv_to_rgb(x),
    "CONTRAST_1_7": lambda x: tf.image.adjust_contrast(x, 1.7),
    "SATURATION_0_4": lambda x: tf.image.adjust_saturation(x, 0.4),
    "SATURATION_2_5": lambda x: tf.image.adjust_saturation(x, 2.5),
    "HUE_0_35": lambda x: tf.image.adjust_hue(x, 0.35), "HUE_MINUS_0_8": lambda x: tf.image.adjust_hue(x, -0.8),
}


@pytest.mark.parametrize("target", TARGETS)
def test_colour_ops_match_tensorflow(target):
    names = sorted(CASES)
    with tf.Session(target) as s:
        got = s.run([CASES[n](X) for n in names])
    for name, value in zip(names, got):
        assert value.shape == X.shape and value.dtype == np.float32, name
        # Contrast sums the mean in another order than Eigen: within an ulp or two.
        np.testing.assert_allclose(value.reshape(-1, 3), globals()[name], rtol=3e-7, atol=2e-7, err_msg=name)


def test_batched_and_uint8_images_keep_their_dtype():
    u8 = (np.concatenate([X, X[::-1]])[None] * 255).astype(np.uint8)          # [1, 4, 5, 3]
    ys = [tf.image.adjust_contrast(u8, 1.7), tf.image.adjust_saturation(u8, 0.4), tf.image.adjust_hue(u8, 0.35)]
    assert [y.dtype for y in ys] == [tf.uint8] * 3
    with tf.Session() as s:
        got = s.run(ys)
    f = u8 * np.float32(1 / 255)
    with tf.Session() as s:
        want = s.run([tf.image.adjust_contrast(f, 1.7), tf.image.adjust_saturation(f, 0.4),
                      tf.image.adjust_hue(f, 0.35)])
    np.testing.assert_array_equal(got[0], np.clip(want[0] * np.float32(255.5), 0, 255).astype(np.uint8))
    for g, w in zip(got[1:], want[1:]):
        np.testing.assert_array_equal(g, (w * np.float32(255.5)).astype(np.uint8))


def test_hsv_round_trip_and_op_types():
    x = tf.constant(X)
    hsv = tf.image.rgb_to_hsv(x)
    assert hsv.op.type == "RGBToHSV" and tf.image.hsv_to_rgb(hsv).op.type == "HSVToRGB"
    with tf.Session() as s:
        np.testing.assert_allclose(s.run(tf.image.hsv_to_rgb(hsv)), X, atol=1e-6)


def test_errors_and_gradients_are_tfs():
    with pytest.raises(ValueError, match="3 channels"):
        tf.image.rgb_to_hsv(tf.placeholder(tf.float32, [2, 2, 4]))
    with pytest.raises(ValueError, match="delta must be in the interval"):
        tf.image.adjust_hue(X, 1.5)
    with pytest.raises(TypeError):
        tf.image.rgb_to_hsv(np.zeros((1, 1, 3), np.int32))
    x = tf.placeholder(tf.float32, [2, 5, 3])
    with pytest.raises(LookupError):
        tf.gradients(tf.reduce_sum(tf.image.adjust_saturation(x, 0.5)), [x])
    assert tf.gradients(tf.reduce_sum(tf.image.hsv_to_rgb(x)), [x]) == [None]


# Made with TensorFlow 2.21: the GradientTape gradient of reduce_sum(rgb_to_hsv(HSV_X) * W) with respect to
# HSV_X (TF's _RGBToHSVGrad), HSV_X = PIX and two more pixels as [3, 4, 3].
HSV_X = np.array(PIX + [[0.6, 0.2, 0.1], [0.2, 0.3, 0.8]], np.float32).reshape(3, 4, 3)
W = [[[0.126, -0.132, 0.64], [0.105, -0.536, 0.362], [1.304, 0.947, -0.704], [-1.265, -0.623, 0.041]], [[-2.325, -0.219, -1.246], [-0.732, -0.544, -0.316], [0.412, 1.043, -0.129], [1.366, -0.665, 0.352]], [[0.903, 0.094, -0.743], [-0.922, -0.458, 0.22], [-1.01, -0.209, -0.159], [0.541, 0.215, 0.355]]]
GRAD = [[[0.37599998712539673, 0.0, 0.2639999985694885], [0.7657143473625183, 0.10822446644306183, 0.03500000014901161], [-0.8587531447410583, 0.2716667056083679, -1.0522222518920898], [0.04100000113248825, 0.0, 0.0]], [[-0.6458333730697632, 0.8891667127609253, -1.3271111249923706], [-0.3160000145435333, -0.12200000137090683, 0.12200000137090683], [0.7517638206481934, -2.6075000762939453, -0.22888889908790588], [0.740705132484436, -0.005646184086799622, 0.46462586522102356]], [[-0.5719431042671204, 0.09021244943141937, -0.3271739184856415], [0.3952409029006958, 0.17462120950222015, 0.11613400280475616], [-0.14972221851348877, -0.33666667342185974, 0.6176666617393494], [-0.14351853728294373, -0.15027779340744019, 0.44723376631736755]]]


@pytest.mark.parametrize("target", TARGETS)
def test_rgb_to_hsv_gradient_is_tfs(target):
    x = tf.placeholder(tf.float32, [3, 4, 3])
    (g,) = tf.gradients(tf.reduce_sum(tf.image.rgb_to_hsv(x) * np.asarray(W, np.float32)), [x])
    with tf.Session(target) as s:
        np.testing.assert_allclose(s.run(g, {x: HSV_X}), GRAD, rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_cuda_kernels_on_the_emulator(emulated):
    names = sorted(CASES)
    with tf.Session("cuda") as s:
        got = s.run([CASES[n](X) for n in names])
    for name, value in zip(names, got):
        np.testing.assert_allclose(value.reshape(-1, 3), globals()[name], rtol=3e-7, atol=2e-7, err_msg=name)
