"""Softmax regression ("MNIST for beginners") on scikit-learn's 8x8 digits, written exactly as in TF1."""
import numpy as np

import xlite as tf
from xlite import datasets

(train_x, train_y), (test_x, test_y) = datasets.load_digits()
train = datasets.Dataset(train_x, datasets.one_hot(train_y, 10), seed=0)
test_labels = datasets.one_hot(test_y, 10)

x = tf.placeholder(tf.float32, [None, 64])
W = tf.Variable(tf.zeros([64, 10]))
b = tf.Variable(tf.zeros([10]))
y = tf.nn.softmax(tf.matmul(x, W) + b)
y_ = tf.placeholder(tf.float32, [None, 10])
cross_entropy = tf.reduce_mean(-tf.reduce_sum(y_ * tf.log(y), axis=1))
train_step = tf.train.GradientDescentOptimizer(0.5).minimize(cross_entropy)
correct = tf.equal(tf.argmax(y, 1), tf.argmax(y_, 1))
accuracy = tf.reduce_mean(tf.cast(correct, tf.float32))

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for i in range(1000):
        xs, ys = train.next_batch(100)
        _, loss = sess.run([train_step, cross_entropy], feed_dict={x: xs, y_: ys})
        if i % 200 == 0:
            print(f"step {i:4d}  loss {loss:.4f}")
    print(f"test accuracy: {sess.run(accuracy, feed_dict={x: test_x, y_: test_labels}):.4f}")
