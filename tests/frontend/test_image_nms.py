"""tf.image.non_max_suppression against a greedy NumPy reference written here (and TF where importable),
on cpu and the interpreter: overlapping, flipped and empty boxes, tied scores, thresholds, zero and one box."""
import numpy as np
import pytest

import xlite as tf
from tests.io.tf_subprocess import LIVE_TF, run_tf

RNG = np.random.default_rng(17)


def iou(a, b):
    (ay0, ay1), (ax0, ax1) = sorted(a[[0, 2]]), sorted(a[[1, 3]])
    (by0, by1), (bx0, bx1) = sorted(b[[0, 2]]), sorted(b[[1, 3]])
    area_a, area_b = (ay1 - ay0) * (ax1 - ax0), (by1 - by0) * (bx1 - bx0)
    if area_a <= 0 or area_b <= 0:
        return 0.0
    inter = max(min(ay1, by1) - max(ay0, by0), 0) * max(min(ax1, bx1) - max(ax0, bx0), 0)
    return inter / (area_a + area_b - inter)


def greedy_nms(boxes, scores, limit, threshold, score_threshold):
    taken = []
    for i in sorted(range(len(scores)), key=lambda i: (-scores[i], i)):
        apart = all(iou(boxes[i], boxes[j]) <= threshold for j in taken)
        if len(taken) < limit and scores[i] > score_threshold and apart:
            taken.append(i)
    return np.array(taken, np.int32)


def random_boxes(n):
    corners = RNG.uniform(0, 4, size=(n, 2))
    boxes = np.concatenate([corners, corners + RNG.uniform(-0.5, 2, size=(n, 2))], 1).astype(np.float32)
    scores = RNG.integers(0, 6, size=n).astype(np.float32) / 5      # ties
    return boxes, scores


@pytest.mark.parametrize("target,sizes", [("interpreter", (9, 0)),
                                          pytest.param("cpu", (9, 0, 1, 17), marks=pytest.mark.slow)])
def test_matches_greedy_reference(target, sizes):
    b = tf.placeholder(tf.float32, [None, 4])
    s = tf.placeholder(tf.float32, [None])
    picks = [tf.image.non_max_suppression(b, s, 4), tf.image.non_max_suppression(b, s, 20, 0.2, score_threshold=0.3)]
    assert picks[0].shape.as_list() == [None] and picks[0].dtype == tf.int32
    with tf.Session(target=target) as sess:
        for n in sizes:
            boxes, scores = random_boxes(n)
            got = sess.run(picks, {b: boxes, s: scores})
            np.testing.assert_array_equal(got[0], greedy_nms(boxes, scores, 4, 0.5, -np.inf))
            np.testing.assert_array_equal(got[1], greedy_nms(boxes, scores, 20, 0.2, 0.3))


def test_with_scores_and_errors():
    boxes, scores = random_boxes(8)
    kept, kept_scores = tf.image.non_max_suppression_with_scores(boxes, scores, 3, 0.4)
    with tf.Session() as sess:
        got, got_scores = sess.run([kept, kept_scores])
    np.testing.assert_array_equal(got, greedy_nms(boxes, scores, 3, 0.4, -np.inf))
    np.testing.assert_array_equal(got_scores, scores[got])
    with pytest.raises(tf.errors.UnimplementedError, match="Soft-NMS"):
        tf.image.non_max_suppression_with_scores(boxes, scores, 3, soft_nms_sigma=0.5)
    with pytest.raises(ValueError, match="boxes must be 2-D"):
        tf.image.non_max_suppression(tf.zeros([4]), tf.zeros([4]), 2)


@pytest.mark.parametrize("_", [pytest.param(0, marks=LIVE_TF)])
def test_against_tensorflow(tmp_path, _):
    boxes, scores = random_boxes(15)
    np.savez(tmp_path / "in.npz", boxes=boxes, scores=scores)
    run_tf("""
        f = np.load(os.path.join(d, "in.npz"))
        out = tf.image.non_max_suppression(f["boxes"], f["scores"], 6, 0.3, score_threshold=0.1)
        with tf1.Session() as s:
            np.save(os.path.join(d, "tf.npy"), s.run(out))
    """, tmp_path)
    with tf.Session() as sess:
        got = sess.run(tf.image.non_max_suppression(boxes, scores, 6, 0.3, score_threshold=0.1))
    np.testing.assert_array_equal(got, np.load(tmp_path / "tf.npy"))


def test_padded_to_max_output_size():
    b = tf.placeholder(tf.float32, [None, 4])
    s = tf.placeholder(tf.float32, [None])
    padded, valid = tf.image.non_max_suppression_padded(b, s, 6, 0.4, pad_to_max_output_size=True)
    short, count = tf.image.non_max_suppression_padded(b, s, 2, 0.4)
    assert padded.shape.as_list() == [6] and short.shape.as_list() == [None]
    boxes, scores = random_boxes(9)
    want = greedy_nms(boxes, scores, 6, 0.4, -np.inf)
    with tf.Session(target="interpreter") as sess:
        got_padded, got_valid, got_short, got_count = sess.run([padded, valid, short, count], {b: boxes, s: scores})
        np.testing.assert_array_equal(got_padded, np.pad(want, (0, 6 - len(want))))
        assert got_valid == len(want) and got_count == min(2, len(want))
        np.testing.assert_array_equal(got_short, want[:2])
        np.testing.assert_array_equal(sess.run(padded, {b: boxes[:1], s: scores[:1]}), [0] * 6)
