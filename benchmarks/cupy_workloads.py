"""W1-W5 of benchmarks/workloads.py op by op with an array module `xp` (CuPy on a GPU, NumPy to test it).

The GPU baseline of BENCHMARKS.md: what a CuPy user writes without a
compiler, one library call (one or more kernels) per op. The same code runs
with xp = numpy, which is how the tests check it against xlite's interpreter
on a machine without a GPU. Only functions NumPy and CuPy both have are used
(no stride tricks, no pad: im2col is 25 slices of a zero-padded copy).

What is fed: as for JAX (benchmarks/jax_workloads.py), the feeds are put on
the device once, when the program is made, and stay there; a call feeds
nothing and copies nothing back (CuPy: it waits for the stream to finish).
Variables live on the device as xp arrays and a training step updates them
in place. `first()` copies the values to compare to the host.
"""
from __future__ import annotations

from types import ModuleType
from typing import Any, Callable

import numpy as np

Array = Any                     # an xp.ndarray: numpy.ndarray or cupy.ndarray

LR = 0.01                       # the workloads' GradientDescentOptimizer(0.01)

MLP_SHAPES = [(784, 256), (256,), (256, 256), (256,), (256, 10), (10,)]
CNN_SHAPES = [(5, 5, 1, 32), (32,), (5, 5, 32, 64), (64,), (3136, 1024), (1024,), (1024, 10), (10,)]


# ------------------------------------------------------------------------------------------------
# forward pieces shared by the steps

def w1(xp: ModuleType, x: Array) -> Array:
    return xp.tanh(x * 0.5 + 0.1) * (1.0 / (1.0 + xp.exp(-x))) + xp.maximum(x - 0.2, 0.0)


def w2(xp: ModuleType, x: Array) -> Array:
    m = x.max(axis=1, keepdims=True)
    e = xp.exp(x - m)
    return e / e.sum(axis=1, keepdims=True)


def w4(xp: ModuleType, a: Array, b: Array) -> Array:
    return a + b


def _xent(xp, logits, labels):
    """Mean softmax cross-entropy and its gradient wrt the logits (TF's: softmax - labels, over the batch)."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = xp.exp(shifted)
    s = e.sum(axis=1, keepdims=True)
    loss = (labels * (xp.log(s) - shifted)).sum(axis=1).mean()
    return loss, (e / s - labels) / logits.shape[0]


def _sgd(params: list, grads: list) -> None:
    """Every weight updated in place, after every gradient is known (as the TF step's apply ops)."""
    for p, g in zip(params, grads):
        p -= LR * g


# ------------------------------------------------------------------------------------------------
# W3: MLP 784-256-256-10

def mlp_step(xp: ModuleType, params: list, x: Array, labels: Array) -> Array:
    """One SGD step of the MLP; returns the loss (a 0-d xp array)."""
    W1, b1, W2, b2, W3, b3 = params
    h1 = xp.maximum(x @ W1 + b1, 0.0)
    h2 = xp.maximum(h1 @ W2 + b2, 0.0)
    loss, d3 = _xent(xp, h2 @ W3 + b3, labels)
    d2 = (d3 @ W3.T) * (h2 > 0)
    d1 = (d2 @ W2.T) * (h1 > 0)
    _sgd(params, [x.T @ d1, d1.sum(axis=0), h1.T @ d2, d2.sum(axis=0), h2.T @ d3, d3.sum(axis=0)])
    return loss


# ------------------------------------------------------------------------------------------------
# W5: Deep-MNIST CNN, NHWC, convolutions as im2col + matmul

def _padded(xp, x, p: int):
    n, h, w, c = x.shape
    out = xp.zeros((n, h + 2 * p, w + 2 * p, c), x.dtype)
    out[:, p:p + h, p:p + w, :] = x
    return out


def im2col(xp: ModuleType, x: Array, k: int) -> Array:
    """[N,H,W,C] -> [N*H*W, k*k*C] patches of a stride-1 SAME convolution, in HWIO weight order."""
    n, h, w, c = x.shape
    xpad = _padded(xp, x, k // 2)
    cols = xp.stack([xpad[:, i:i + h, j:j + w, :] for i in range(k) for j in range(k)], axis=3)
    return cols.reshape(n * h * w, k * k * c)


def col2im(xp: ModuleType, cols: Array, shape: tuple, k: int) -> Array:
    """The gradient of im2col: each patch entry added back where it was read from."""
    n, h, w, c = shape
    p = k // 2
    cols = cols.reshape(n, h, w, k * k, c)
    dpad = xp.zeros((n, h + 2 * p, w + 2 * p, c), cols.dtype)
    for i in range(k):
        for j in range(k):
            dpad[:, i:i + h, j:j + w, :] += cols[:, :, :, i * k + j, :]
    return dpad[:, p:p + h, p:p + w, :]


def conv2d(xp: ModuleType, x: Array, W: Array) -> tuple:
    """SAME, stride 1; returns the output and the patches (kept for the weight gradient)."""
    k, _, c, o = W.shape
    cols = im2col(xp, x, k)
    return (cols @ W.reshape(k * k * c, o)).reshape(x.shape[:3] + (o,)), cols


def max_pool(xp: ModuleType, x: Array) -> Array:
    """2x2 windows, stride 2 (the inputs here have even sizes, so SAME pads nothing)."""
    n, h, w, c = x.shape
    return x.reshape(n, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))


def max_pool_grad(xp: ModuleType, x: Array, g: Array) -> Array:
    """Each window's gradient goes to its first maximal element (row-major), as TF's MaxPoolGrad."""
    n, h, w, c = x.shape
    windows = x.reshape(n, h // 2, 2, w // 2, 2, c).transpose(0, 1, 3, 5, 2, 4).reshape(n, h // 2, w // 2, c, 4)
    first = xp.arange(4) == windows.argmax(axis=-1)[..., None]
    spread = (first * g[..., None]).reshape(n, h // 2, w // 2, c, 2, 2)
    return spread.transpose(0, 1, 4, 2, 5, 3).reshape(n, h, w, c)


def cnn_step(xp: ModuleType, params: list, x: Array, labels: Array) -> Array:
    """One SGD step of the CNN; returns the loss (a 0-d xp array)."""
    Wc1, bc1, Wc2, bc2, Wf1, bf1, Wf2, bf2 = params
    n = x.shape[0]
    z1, cols1 = conv2d(xp, x, Wc1)
    a1 = xp.maximum(z1 + bc1, 0.0)
    p1 = max_pool(xp, a1)
    z2, cols2 = conv2d(xp, p1, Wc2)
    a2 = xp.maximum(z2 + bc2, 0.0)
    p2 = max_pool(xp, a2)
    flat = p2.reshape(n, -1)
    f1 = xp.maximum(flat @ Wf1 + bf1, 0.0)
    loss, dlogits = _xent(xp, f1 @ Wf2 + bf2, labels)

    df1 = (dlogits @ Wf2.T) * (f1 > 0)
    dp2 = (df1 @ Wf1.T).reshape(p2.shape)
    dz2 = max_pool_grad(xp, a2, dp2) * (a2 > 0)
    dz2_rows = dz2.reshape(-1, dz2.shape[3])
    dp1 = col2im(xp, dz2_rows @ Wc2.reshape(-1, Wc2.shape[3]).T, p1.shape, Wc2.shape[0])
    dz1 = max_pool_grad(xp, a1, dp1) * (a1 > 0)
    dz1_rows = dz1.reshape(-1, dz1.shape[3])
    _sgd(params, [(cols1.T @ dz1_rows).reshape(Wc1.shape), dz1_rows.sum(axis=0),
                  (cols2.T @ dz2_rows).reshape(Wc2.shape), dz2_rows.sum(axis=0),
                  flat.T @ df1, df1.sum(axis=0), f1.T @ dlogits, dlogits.sum(axis=0)])
    return loss


# ------------------------------------------------------------------------------------------------
# the harness's view

def to_host(xp: ModuleType, a: Array) -> np.ndarray:
    return xp.asnumpy(a) if hasattr(xp, "asnumpy") else np.array(a)


class ArrayProgram:
    """`first()` runs once and returns the values to compare with the interpreter ([y], or
    [loss, *updated params] for a training step); `call()` is one timed call, finished on the device."""

    def __init__(self, xp: ModuleType, fn: Callable, feeds: list, params: list | None = None):
        self.xp = xp
        self.fn = fn
        self.feeds = [xp.asarray(np.asarray(f)) for f in feeds]
        self.params = None if params is None else [xp.array(np.asarray(p), dtype=np.float32) for p in params]
        cuda = getattr(xp, "cuda", None)
        self._stream = cuda.get_current_stream if cuda is not None else None

    def _run(self):
        if self.params is None:
            return self.fn(self.xp, *self.feeds)
        return self.fn(self.xp, self.params, *self.feeds)

    def first(self) -> list:
        out = self._run()
        return [to_host(self.xp, out)] + [to_host(self.xp, p) for p in self.params or []]

    def call(self) -> None:
        self._run()
        if self._stream is not None:
            self._stream().synchronize()


def _check_params(params: list | None, shapes: list, wid: str) -> None:
    got = None if params is None else [tuple(np.shape(p)) for p in params]
    if got != [tuple(s) for s in shapes]:
        raise ValueError(f"{wid}: initial Variable values of shapes {got}, expected {shapes}")


def make(workload_id: str, program: Any, initial: list | None = None, xp: ModuleType | None = None) -> ArrayProgram:
    """The op-by-op program of a workload, fed the xlite `program`'s feeds (in its order) and starting
    from `initial` (the Variables' values in `program.variables` order, as the interpreter set them)."""
    if xp is None:
        import cupy as xp
    feeds = list(program.feeds.values())
    if workload_id == "W1":
        return ArrayProgram(xp, w1, feeds)
    if workload_id == "W2":
        return ArrayProgram(xp, w2, feeds)
    if workload_id == "W4":
        return ArrayProgram(xp, w4, feeds)
    if workload_id == "W3":
        _check_params(initial, MLP_SHAPES, workload_id)
        return ArrayProgram(xp, mlp_step, feeds, initial)
    if workload_id == "W5":
        _check_params(initial, CNN_SHAPES, workload_id)
        return ArrayProgram(xp, cnn_step, feeds, initial)
    raise KeyError(workload_id)
