"""A deeper network with the layers API: iris, hidden layers 10-20-10, Adam."""
import xlite as tf
from xlite import datasets

(train_x, train_y), (test_x, test_y) = datasets.load_iris()
tf.set_random_seed(1)

features = tf.placeholder(tf.float32, [None, 4])
labels = tf.placeholder(tf.int32, [None])
h = tf.reshape(features, [-1, 4])
for units in (10, 20, 10):
    h = tf.layers.dense(h, units=units, activation=tf.nn.relu)
logits = tf.layers.dense(h, units=3)
loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
train = tf.train.AdamOptimizer(0.01).minimize(loss)
accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1, output_type=tf.int32), labels), tf.float32))

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for step in range(400):
        _, value = sess.run([train, loss], feed_dict={features: train_x, labels: train_y})
        if step % 80 == 0:
            print(f"step {step:4d}  loss {value:.4f}")
    print(f"test accuracy: {sess.run(accuracy, feed_dict={features: test_x, labels: test_y}):.4f}")
