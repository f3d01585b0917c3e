"""Eager execution: ops run as they are called, each through a kernel xlite compiled once and cached.

    python examples/eager_basics.py      (XLITE_TARGET=interpreter runs the same kernels interpreted)
"""
import numpy as np

import xlite as tf

tf.enable_eager_execution()

# The glossary's example: values print as TF prints them.
a = tf.constant([[1, 2], [3, 4]])
b = tf.constant([[5, 6], [7, 8]])
print(a + b)

# EagerTensors work with Python and NumPy.
x = tf.constant([0.5, 1.0, 2.0])
print("numpy:", x.numpy(), "shape:", x.shape, "dtype:", x.dtype.name, "sum:", float(tf.reduce_sum(x)))
print("np.exp:", np.exp(x))

# A Variable, a GradientTape and an optimizer: fit y = 3x - 1.
xs = tf.constant(np.linspace(-1, 1, 32, dtype=np.float32))
ys = 3.0 * xs - 1.0
w, c = tf.Variable(0.0), tf.Variable(0.0)
optimizer = tf.train.GradientDescentOptimizer(0.5)
for step in range(60):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(w * xs + c - ys))
    grads = tape.gradient(loss, [w, c])
    optimizer.apply_gradients(zip(grads, [w, c]))
    if step % 20 == 0:
        print(f"step {step}: loss {float(loss):.5f}")
print(f"w = {float(w):.3f}, c = {float(c):.3f}")
