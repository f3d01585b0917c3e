"""The Deep-MNIST CNN on 8x8 digits: conv 5x5 (1->32, SAME) + ReLU, max-pool, conv 5x5 (32->64) + ReLU,
max-pool, dense + ReLU, dense 10, softmax cross-entropy, Adam. NHWC throughout."""
import numpy as np

import xlite as tf
from xlite import datasets

(train_x, train_y), (test_x, test_y) = datasets.load_digits()
train = datasets.Dataset(train_x, train_y, seed=0)


def weight(shape):
    return tf.Variable(tf.truncated_normal(shape, stddev=0.1))


def bias(shape):
    return tf.Variable(tf.constant(0.1, shape=shape))


def conv2d(x, W):
    return tf.nn.conv2d(x, W, strides=[1, 1, 1, 1], padding="SAME")


def max_pool_2x2(x):
    return tf.nn.max_pool(x, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")


tf.set_random_seed(0)
x = tf.placeholder(tf.float32, [None, 64])
y_ = tf.placeholder(tf.int64, [None])
image = tf.reshape(x, [-1, 8, 8, 1])
h_pool1 = max_pool_2x2(tf.nn.relu(conv2d(image, weight([5, 5, 1, 32])) + bias([32])))
h_pool2 = max_pool_2x2(tf.nn.relu(conv2d(h_pool1, weight([5, 5, 32, 64])) + bias([64])))
flat = tf.reshape(h_pool2, [-1, 2 * 2 * 64])
h_fc1 = tf.nn.relu(tf.matmul(flat, weight([2 * 2 * 64, 256])) + bias([256]))
logits = tf.matmul(h_fc1, weight([256, 10])) + bias([10])
loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y_, logits=logits))
train_step = tf.train.AdamOptimizer(1e-3).minimize(loss)
accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), y_), tf.float32))

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for i in range(300):
        xs, ys = train.next_batch(50)
        _, value = sess.run([train_step, loss], feed_dict={x: xs, y_: ys})
        if i % 60 == 0:
            print(f"step {i:4d}  loss {value:.4f}")
    print(f"test accuracy: {sess.run(accuracy, feed_dict={x: test_x, y_: test_y}):.4f}")
