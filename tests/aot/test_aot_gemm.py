"""The emitted GEMM that replaces BLAS in AOT objects: every transpose case, edge tiles, float64, batches and
convolutions, against NumPy."""
import numpy as np
import pytest

import xlite as tf
import xlite.aot
from aot_harness import CC
from tiers import slow_except

pytestmark = pytest.mark.skipif(CC is None, reason="needs a C compiler to link the .so")

CASES = [  # (m, k, n, transpose_a, transpose_b, dtype)
    (33, 17, 9, False, False, np.float32),
    (5, 200, 300, False, True, np.float32),
    (130, 70, 19, True, False, np.float32),
    (16, 300, 64, True, True, np.float32),
    (1, 513, 7, False, False, np.float32),
    (129, 257, 5, False, False, np.float32),
    (21, 13, 11, True, True, np.float64),
    (70, 90, 33, False, True, np.float64),
]


@pytest.mark.parametrize(*slow_except("m,k,n,ta,tb,dtype", CASES, 0, 6))
def test_matmul(tmp_path, m, k, n, ta, tb, dtype):
    rng = np.random.RandomState(m * n + k)
    a = rng.standard_normal((k, m) if ta else (m, k)).astype(dtype)
    b = rng.standard_normal((n, k) if tb else (k, n)).astype(dtype)
    graph = tf.Graph()
    with graph.as_default():
        pa = tf.placeholder(dtype, a.shape, name="a")
        pb = tf.placeholder(dtype, b.shape, name="b")
        c = tf.matmul(pa, pb, transpose_a=ta, transpose_b=tb)
        d = tf.matmul(pa, pb, transpose_a=ta, transpose_b=tb) * 2.0 + 1.0
    artifacts = xlite.aot.compile([c, d], [pa, pb], name="mm", out_dir=str(tmp_path), graph=graph)
    got_c, got_d = xlite.aot.load(artifacts.shared_path)(a=a, b=b)
    want = (a.T if ta else a).astype(np.float64) @ (b.T if tb else b).astype(np.float64)
    tol = 1e-4 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(got_c, want, rtol=tol, atol=tol * np.sqrt(k))
    np.testing.assert_allclose(got_d, want * 2 + 1, rtol=tol, atol=2 * tol * np.sqrt(k))


def test_batch_matmul_and_convolution(tmp_path):
    rng = np.random.RandomState(0)
    xs = rng.standard_normal((3, 19, 23)).astype(np.float32)
    ys = rng.standard_normal((3, 23, 29)).astype(np.float32)
    img = rng.standard_normal((2, 17, 15, 3)).astype(np.float32)
    ker = rng.standard_normal((3, 5, 3, 40)).astype(np.float32)
    graph = tf.Graph()
    with graph.as_default():
        px = tf.placeholder(tf.float32, xs.shape, name="xs")
        py = tf.placeholder(tf.float32, ys.shape, name="ys")
        pimg = tf.placeholder(tf.float32, img.shape, name="img")
        pker = tf.placeholder(tf.float32, ker.shape, name="ker")
        bmm = tf.matmul(px, py)
        conv = tf.nn.conv2d(pimg, pker, strides=[1, 2, 1, 1], padding="SAME")
    artifacts = xlite.aot.compile([bmm, conv], [px, py, pimg, pker], name="bc", out_dir=str(tmp_path), graph=graph)
    got = xlite.aot.load(artifacts.shared_path)(xs=xs, ys=ys, img=img, ker=ker)
    want = tf.Session(target="interpreter", graph=graph).run([bmm, conv], {px: xs, py: ys, pimg: img, pker: ker})
    np.testing.assert_allclose(got[0], xs @ ys, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-4, atol=1e-4)
