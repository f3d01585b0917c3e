"""tf.image's random augmentations: seeded draws repeat across sessions, differ across runs, and each result
is the deterministic op at a factor in the stated range."""
import numpy as np
import pytest

import xlite as tf

RNG = np.random.default_rng(11)
IMG = RNG.uniform(0.1, 0.9, (5, 6, 3)).astype(np.float32)


def _runs(ts, n=4):
    with tf.Session() as s:
        first = [s.run(ts) for _ in range(n)]
    with tf.Session() as s:
        again = [s.run(ts) for _ in range(n)]
    for a, b in zip(first, again):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)   # the same seeded sequence in a new session
    return first


def test_random_brightness_and_contrast_stay_in_range():
    runs = _runs([tf.image.random_brightness(IMG, 0.2, seed=1), tf.image.random_contrast(IMG, 0.5, 1.5, seed=2)])
    deltas, factors = set(), set()
    mean = IMG.mean(axis=(0, 1))
    for bright, contrast in runs:
        delta = (bright - IMG).mean()
        np.testing.assert_allclose(bright, IMG + delta, atol=1e-6)
        assert -0.2 <= delta < 0.2
        factor = ((contrast - mean) / (IMG - mean)).mean()
        np.testing.assert_allclose(contrast, (IMG - mean) * factor + mean, atol=1e-5)
        assert 0.5 <= factor < 1.5
        deltas.add(round(float(delta), 6))
        factors.add(round(float(factor), 6))
    assert len(deltas) > 1 and len(factors) > 1, "each run draws anew"


@pytest.mark.slow
def test_random_saturation_and_hue_are_the_adjustments_at_their_draw():
    """A random_uniform with the same seed draws the same number in the same run (same Philox key)."""
    x = tf.constant(IMG)
    sat, hue = tf.image.random_saturation(x, 0.3, 0.6, seed=3), tf.image.random_hue(x, 0.1, seed=4)
    draws = [tf.random_uniform([], 0.3, 0.6, seed=3), tf.random_uniform([], -0.1, 0.1, seed=4)]
    factor = tf.placeholder(tf.float32, [])
    adjusted = [tf.image.adjust_saturation(x, factor), tf.image.adjust_hue(x, factor)]
    seen = set()
    for s_value, h_value, s_draw, h_draw in _runs([sat, hue] + draws, n=3):
        assert 0.3 <= s_draw < 0.6 and -0.1 <= h_draw < 0.1
        seen.add(float(s_draw))
        with tf.Session() as s:
            np.testing.assert_array_equal(s_value, s.run(adjusted[0], {factor: s_draw}))
            np.testing.assert_array_equal(h_value, s.run(adjusted[1], {factor: h_draw}))
    assert len(seen) > 1


def test_random_crop_is_a_window_of_the_image():
    crop = tf.image.random_crop(IMG, [3, 4, 3], seed=5)
    assert crop.shape.as_list() == [3, 4, 3] and tf.random_crop is tf.image.random_crop
    offsets = set()
    for (value,) in _runs([crop], n=6):
        found = [(i, j) for i in range(3) for j in range(3) if np.array_equal(IMG[i:i + 3, j:j + 4], value)]
        assert found, "the crop is a window of the image"
        offsets.add(found[0])
    assert len(offsets) > 1


def test_argument_errors_are_tfs():
    with pytest.raises(ValueError, match="max_delta must be non-negative"):
        tf.image.random_brightness(IMG, -0.1)
    with pytest.raises(ValueError, match="upper must be > lower"):
        tf.image.random_contrast(IMG, 0.5, 0.5)
    with pytest.raises(ValueError, match="lower must be non-negative"):
        tf.image.random_saturation(IMG, -0.5, 0.5)
    with pytest.raises(ValueError, match="max_delta must be <= 0.5"):
        tf.image.random_hue(IMG, 0.7)
    with pytest.raises(ValueError, match="Need value.shape >= size"):
        tf.image.random_crop(IMG, [6, 4, 3])
