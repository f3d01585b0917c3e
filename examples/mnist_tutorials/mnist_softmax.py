"""MNIST for beginners (TF1's mnist_softmax.py), in its XLA JIT form (mnist_softmax_xla.py).

A softmax regression trained by gradient descent, run in a Session configured with the
global JIT level and traced with RunOptions/RunMetadata, as the XLA tutorial writes it: the
last training step is a FULL_TRACE run whose timeline is written as Chrome trace JSON (open it in
ui.perfetto.dev or chrome://tracing: one event per compiled kernel, named by the TF ops fused
into it). Only the imports differ from TensorFlow's program, and --timeline_file, which names
the file the tutorial writes to /tmp/timeline.ctf.json.

    python mnist_softmax.py --data_dir=DIR     # DIR holds the four MNIST IDX files
    python mnist_softmax.py --fake_data --steps=20
"""
import argparse
import sys

import xlite as tf
from xlite import timeline
from xlite.examples.tutorials.mnist import input_data

FLAGS = None


def main(_):
    # Import data
    mnist = input_data.read_data_sets(FLAGS.data_dir, FLAGS.fake_data, one_hot=True)

    # Create the model
    x = tf.placeholder(tf.float32, [None, 784])
    W = tf.Variable(tf.zeros([784, 10]))
    b = tf.Variable(tf.zeros([10]))
    y = tf.matmul(x, W) + b

    # Define loss and optimizer
    y_ = tf.placeholder(tf.float32, [None, 10])
    cross_entropy = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y_, logits=y))
    train_step = tf.train.GradientDescentOptimizer(0.5).minimize(cross_entropy)

    config = tf.ConfigProto()
    jit_level = 0
    if FLAGS.xla:
        # Turns on XLA JIT compilation (xlite compiles every run whatever the level).
        jit_level = tf.OptimizerOptions.ON_1
    config.graph_options.optimizer_options.global_jit_level = jit_level
    run_metadata = tf.RunMetadata()
    sess = tf.Session(config=config)
    tf.global_variables_initializer().run(session=sess)

    # Train
    for i in range(FLAGS.steps):
        batch_xs, batch_ys = mnist.train.next_batch(100)
        # Create a timeline for the last loop and export to json to view with chrome://tracing/.
        if i == FLAGS.steps - 1:
            sess.run(train_step, feed_dict={x: batch_xs, y_: batch_ys},
                     options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE), run_metadata=run_metadata)
            trace = timeline.Timeline(step_stats=run_metadata.step_stats)
            with open(FLAGS.timeline_file, "w") as trace_file:
                trace_file.write(trace.generate_chrome_trace_format())
        else:
            _, loss = sess.run([train_step, cross_entropy], feed_dict={x: batch_xs, y_: batch_ys})
            if i % max(FLAGS.steps // 10, 1) == 0:
                print(f"step {i:4d}  loss {loss:.4f}")

    # Test trained model
    correct_prediction = tf.equal(tf.argmax(y, 1), tf.argmax(y_, 1))
    accuracy = tf.reduce_mean(tf.cast(correct_prediction, tf.float32))
    if FLAGS.fake_data:
        test_xs, test_ys = mnist.test.next_batch(1000, fake_data=True)
    else:
        test_xs, test_ys = mnist.test.images, mnist.test.labels
    print("test accuracy: %g" % sess.run(accuracy, feed_dict={x: test_xs, y_: test_ys}))
    sess.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--data_dir", type=str, default="/tmp/tensorflow/mnist/input_data",
                        help="Directory holding the MNIST IDX files")
    parser.add_argument("--xla", type=bool, default=True, help="Turn xla via JIT on")
    parser.add_argument("--fake_data", action="store_true", help="Train on TF's fake MNIST data")
    parser.add_argument("--steps", type=int, default=1000, help="Number of training steps")
    parser.add_argument("--timeline_file", type=str, default="/tmp/timeline.ctf.json",
                        help="Where the traced last step's Chrome trace is written")
    FLAGS, unparsed = parser.parse_known_args()
    tf.app.run(main=main, argv=[sys.argv[0]] + unparsed)
