"""Deep learning from the bottom: colours by RGB value, 3-50-100-50-3, affine/ReLU/softmax by hand."""
import numpy as np

import xlite as tf


def make_colours(n, rng):
    """Each colour is clearly red, green or blue: its labelled channel is the brightest by a margin."""
    labels = rng.integers(0, 3, n)
    rgb = rng.uniform(0.0, 0.5, (n, 3))
    rgb[np.arange(n), labels] = rng.uniform(0.6, 1.0, n)
    return rgb.astype(np.float32), labels


rng = np.random.default_rng(0)
train_x, train_t = make_colours(240, rng)
test_x, test_t = make_colours(20, rng)
onehot = np.eye(3, dtype=np.float32)

tf.set_random_seed(0)
x = tf.placeholder(tf.float32, [None, 3])
t = tf.placeholder(tf.float32, [None, 3])
h = x
sizes = [3, 50, 100, 50, 3]
for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
    W = tf.Variable(tf.random_normal([n_in, n_out], stddev=np.sqrt(2.0 / n_in)), name=f"W{i}")
    b = tf.Variable(tf.zeros([n_out]), name=f"b{i}")
    h = tf.matmul(h, W) + b                       # affine
    if i < len(sizes) - 2:
        h = tf.nn.relu(h)                          # ReLU between affine layers
loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=t, logits=h))
train = tf.train.GradientDescentOptimizer(0.01).minimize(loss)
accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(h, 1), tf.argmax(t, 1)), tf.float32))

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for epoch in range(800):
        _, value = sess.run([train, loss], feed_dict={x: train_x, t: onehot[train_t]})
        if epoch % 200 == 0:
            print(f"epoch {epoch:4d}  loss {value:.4f}")
    print(f"test accuracy: {sess.run(accuracy, feed_dict={x: test_x, t: onehot[test_t]}):.4f}")
