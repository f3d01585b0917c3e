"""The same computations as benchmarks/workloads.py under jax.jit, for comparison only.

JAX is never a dependency of xlite: the harness imports this module only
when `importlib.util.find_spec("jax")` finds it. As in BENCHMARKS.md's
anchors, JAX gets device-resident inputs (put on the device once); a
training step takes the parameters and returns the loss and the updated
parameters (donated, so XLA may update them in place).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax


def w1(x):
    return jnp.tanh(x * 0.5 + 0.1) * (1.0 / (1.0 + jnp.exp(-x))) + jnp.maximum(x - 0.2, 0.0)


def w2(x):
    m = jnp.max(x, axis=1, keepdims=True)
    e = jnp.exp(x - m)
    return e / jnp.sum(e, axis=1, keepdims=True)


def w4(a, b):
    return a + b


def _xent(logits, labels):
    return jnp.mean(-jnp.sum(labels * jax.nn.log_softmax(logits, axis=-1), axis=-1))


def mlp_loss(params, x, labels):
    W1, b1, W2, b2, W3, b3 = params
    h = jax.nn.relu(x @ W1 + b1)
    h = jax.nn.relu(h @ W2 + b2)
    return _xent(h @ W3 + b3, labels)


def cnn_loss(params, x, labels):
    Wc1, bc1, Wc2, bc2, Wf1, bf1, Wf2, bf2 = params
    dn = ("NHWC", "HWIO", "NHWC")

    def pool(h):
        return lax.reduce_window(h, -jnp.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "SAME")

    h = pool(jax.nn.relu(lax.conv_general_dilated(x, Wc1, (1, 1), "SAME", dimension_numbers=dn) + bc1))
    h = pool(jax.nn.relu(lax.conv_general_dilated(h, Wc2, (1, 1), "SAME", dimension_numbers=dn) + bc2))
    h = h.reshape(h.shape[0], -1)
    h = jax.nn.relu(h @ Wf1 + bf1)
    return _xent(h @ Wf2 + bf2, labels)


def sgd_step(loss_fn, lr: float = 0.01):
    def step(params, x, labels):
        loss, grads = jax.value_and_grad(loss_fn)(params, x, labels)
        return loss, [p - lr * g for p, g in zip(params, grads)]
    return jax.jit(step, donate_argnums=(0,))


class JaxProgram:
    """`first()` runs once and returns the values to compare with the interpreter
    ([y], or [loss, *updated params] for a training step); `call()` is one timed call."""

    def __init__(self, fn, feeds, params=None):
        self.fn = fn
        self.feeds = [jax.device_put(np.asarray(f)) for f in feeds]
        self.params = None if params is None else [jax.device_put(np.array(p)) for p in params]

    def _run(self):
        if self.params is None:
            out = self.fn(*self.feeds)
            return [out.block_until_ready()]
        loss, self.params = self.fn(self.params, *self.feeds)
        loss.block_until_ready()
        return [loss] + self.params

    def first(self) -> list:
        return [np.array(v) for v in self._run()]   # copies: donated buffers get reused

    def call(self) -> None:
        self._run()


def make(workload_id: str, feeds: list, params: list | None = None) -> JaxProgram:
    if workload_id == "W1":
        return JaxProgram(jax.jit(w1), feeds)
    if workload_id == "W2":
        return JaxProgram(jax.jit(w2), feeds)
    if workload_id == "W4":
        return JaxProgram(jax.jit(w4), feeds)
    if workload_id in ("W3", "W6"):
        return JaxProgram(sgd_step(mlp_loss), feeds, params)
    if workload_id == "W5":
        return JaxProgram(sgd_step(cnn_loss), feeds, params)
    raise KeyError(workload_id)


def mlp_initial_params(seed: int = 3) -> list:
    rng = np.random.RandomState(seed)
    params = []
    for n_in, n_out in ((784, 256), (256, 256), (256, 10)):
        params += [(rng.standard_normal((n_in, n_out)) * 0.1).astype(np.float32), np.zeros(n_out, np.float32)]
    return params
