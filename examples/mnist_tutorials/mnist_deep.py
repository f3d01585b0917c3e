"""Deep MNIST for experts (TF1's mnist_deep.py): a convolutional network with dropout and Adam.

conv 5x5 (1->32) + ReLU, max-pool 2x2, conv 5x5 (32->64) + ReLU, max-pool 2x2, dense 1024
+ ReLU, dropout, dense 10, each under its own name scope; the graph goes to a FileWriter
for TensorBoard's graph tab, and the training accuracy and loss to its scalars.

    python mnist_deep.py --data_dir=DIR        # DIR holds the four MNIST IDX files
    python mnist_deep.py --fake_data --steps=5 --log_dir=/tmp/deep
"""
import argparse
import sys
import tempfile

import xlite as tf
from xlite.examples.tutorials.mnist import input_data

FLAGS = None


def deepnn(x):
    """deepnn builds the graph for a deep net for classifying digits.

    Returns (y, keep_prob): logits [N, 10] and the dropout keep probability placeholder."""
    # Reshape to use within a convolutional neural net.
    with tf.name_scope("reshape"):
        x_image = tf.reshape(x, [-1, 28, 28, 1])

    # First convolutional layer - maps one grayscale image to 32 feature maps.
    with tf.name_scope("conv1"):
        W_conv1 = weight_variable([5, 5, 1, 32])
        b_conv1 = bias_variable([32])
        h_conv1 = tf.nn.relu(conv2d(x_image, W_conv1) + b_conv1)

    # Pooling layer - downsamples by 2X.
    with tf.name_scope("pool1"):
        h_pool1 = max_pool_2x2(h_conv1)

    # Second convolutional layer -- maps 32 feature maps to 64.
    with tf.name_scope("conv2"):
        W_conv2 = weight_variable([5, 5, 32, 64])
        b_conv2 = bias_variable([64])
        h_conv2 = tf.nn.relu(conv2d(h_pool1, W_conv2) + b_conv2)

    # Second pooling layer.
    with tf.name_scope("pool2"):
        h_pool2 = max_pool_2x2(h_conv2)

    # Fully connected layer 1 -- after 2 round of downsampling, our 28x28 image
    # is down to 7x7x64 feature maps -- maps this to 1024 features.
    with tf.name_scope("fc1"):
        W_fc1 = weight_variable([7 * 7 * 64, 1024])
        b_fc1 = bias_variable([1024])
        h_pool2_flat = tf.reshape(h_pool2, [-1, 7 * 7 * 64])
        h_fc1 = tf.nn.relu(tf.matmul(h_pool2_flat, W_fc1) + b_fc1)

    # Dropout - controls the complexity of the model, prevents co-adaptation of features.
    with tf.name_scope("dropout"):
        keep_prob = tf.placeholder(tf.float32)
        h_fc1_drop = tf.nn.dropout(h_fc1, keep_prob)

    # Map the 1024 features to 10 classes, one for each digit
    with tf.name_scope("fc2"):
        W_fc2 = weight_variable([1024, 10])
        b_fc2 = bias_variable([10])
        y_conv = tf.matmul(h_fc1_drop, W_fc2) + b_fc2
    return y_conv, keep_prob


def conv2d(x, W):
    """conv2d returns a 2d convolution layer with full stride."""
    return tf.nn.conv2d(x, W, strides=[1, 1, 1, 1], padding="SAME")


def max_pool_2x2(x):
    """max_pool_2x2 downsamples a feature map by 2X."""
    return tf.nn.max_pool(x, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")


def weight_variable(shape):
    """weight_variable generates a weight variable of a given shape."""
    initial = tf.truncated_normal(shape, stddev=0.1)
    return tf.Variable(initial)


def bias_variable(shape):
    """bias_variable generates a bias variable of a given shape."""
    initial = tf.constant(0.1, shape=shape)
    return tf.Variable(initial)


def main(_):
    # Import data
    mnist = input_data.read_data_sets(FLAGS.data_dir, FLAGS.fake_data, one_hot=True)

    # Create the model
    x = tf.placeholder(tf.float32, [None, 784])

    # Define loss and optimizer
    y_ = tf.placeholder(tf.float32, [None, 10])

    # Build the graph for the deep net
    y_conv, keep_prob = deepnn(x)

    with tf.name_scope("loss"):
        cross_entropy = tf.nn.softmax_cross_entropy_with_logits(labels=y_, logits=y_conv)
    cross_entropy = tf.reduce_mean(cross_entropy)

    with tf.name_scope("adam_optimizer"):
        train_step = tf.train.AdamOptimizer(1e-4).minimize(cross_entropy)

    with tf.name_scope("accuracy"):
        correct_prediction = tf.equal(tf.argmax(y_conv, 1), tf.argmax(y_, 1))
        correct_prediction = tf.cast(correct_prediction, tf.float32)
    accuracy = tf.reduce_mean(correct_prediction)

    tf.summary.scalar("cross_entropy", cross_entropy)
    tf.summary.scalar("training_accuracy", accuracy)
    merged = tf.summary.merge_all()

    graph_location = FLAGS.log_dir or tempfile.mkdtemp()
    print("Saving graph to: %s" % graph_location)
    train_writer = tf.summary.FileWriter(graph_location)
    train_writer.add_graph(tf.get_default_graph())

    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for i in range(FLAGS.steps):
            batch = mnist.train.next_batch(FLAGS.batch_size)
            if i % FLAGS.log_every == 0:
                summary, train_accuracy, loss = sess.run(
                    [merged, accuracy, cross_entropy], feed_dict={x: batch[0], y_: batch[1], keep_prob: 1.0})
                train_writer.add_summary(summary, i)
                print("step %d, training accuracy %g, loss %g" % (i, train_accuracy, loss))
            train_step.run(feed_dict={x: batch[0], y_: batch[1], keep_prob: 0.5})
        train_writer.close()

        # The test set in batches: one run over all 10000 images would need gigabytes of activations.
        size = FLAGS.eval_batch_size
        if FLAGS.fake_data:
            batches = [mnist.test.next_batch(size, fake_data=True)]
        else:
            batches = [(mnist.test.images[i:i + size], mnist.test.labels[i:i + size])
                       for i in range(0, mnist.test.num_examples, size)]
        correct, total = 0.0, 0
        for xs, ys in batches:
            correct += accuracy.eval(feed_dict={x: xs, y_: ys, keep_prob: 1.0}) * len(xs)
            total += len(xs)
        print("test accuracy %g" % (correct / total))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--data_dir", type=str, default="/tmp/tensorflow/mnist/input_data",
                        help="Directory holding the MNIST IDX files")
    parser.add_argument("--fake_data", action="store_true", help="Train on TF's fake MNIST data")
    parser.add_argument("--steps", type=int, default=20000, help="Number of training steps")
    parser.add_argument("--batch_size", type=int, default=50, help="Batch size")
    parser.add_argument("--eval_batch_size", type=int, default=500, help="Batch size of the test-set evaluation")
    parser.add_argument("--log_every", type=int, default=100, help="Steps between accuracy reports")
    parser.add_argument("--log_dir", type=str, default="", help="Where the FileWriter writes (a temp dir if empty)")
    FLAGS, unparsed = parser.parse_known_args()
    tf.app.run(main=main, argv=[sys.argv[0]] + unparsed)
