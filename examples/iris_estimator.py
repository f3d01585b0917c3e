"""Iris with tf.estimator, as in the TF 1.0 high-level API talk: a custom model_fn (tf.layers.dense 10-20-10
-> 3) and the canned DNNClassifier over numeric_column features, side by side, both fed by a tf.data
input_fn that reads the CSV files in examples/data (120 training and 30 test rows, TF's iris CSV layout)."""
import os
import sys
import tempfile

import xlite as tf

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
TRAIN_CSV, TEST_CSV = os.path.join(DATA, "iris_training.csv"), os.path.join(DATA, "iris_test.csv")
FEATURES = ["SepalLength", "SepalWidth", "PetalLength", "PetalWidth"]


def csv_input_fn(path, training, batch_size=32):
    """A Dataset of ({feature: [batch]}, [batch] labels) parsed from the CSV lines (header skipped)."""
    def input_fn():
        def parse(line):
            *columns, label = tf.io.decode_csv(line, record_defaults=[[0.0]] * 4 + [[0]])
            return dict(zip(FEATURES, columns)), label
        dataset = tf.data.TextLineDataset(path).skip(1).map(parse)
        if training:
            dataset = dataset.shuffle(120, seed=1).repeat()
        return dataset.batch(batch_size)
    return input_fn


def iris_model_fn(features, labels, mode, params):
    """The talk's model: three hidden layers (10, 20, 10), 3 logits, Adagrad on softmax cross-entropy."""
    net = tf.feature_column.input_layer(features, params["feature_columns"])
    for units in (10, 20, 10):
        net = tf.layers.dense(net, units, activation=tf.nn.relu)
    logits = tf.layers.dense(net, 3)
    predictions = {"class_ids": tf.argmax(logits, 1), "probabilities": tf.nn.softmax(logits)}
    if mode == tf.estimator.ModeKeys.PREDICT:
        return tf.estimator.EstimatorSpec(mode, predictions=predictions)
    loss = tf.losses.sparse_softmax_cross_entropy(labels=labels, logits=logits)
    accuracy = tf.metrics.accuracy(labels=labels, predictions=predictions["class_ids"])
    train_op = tf.train.AdagradOptimizer(0.1).minimize(loss, global_step=tf.train.get_global_step())
    return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op, eval_metric_ops={"accuracy": accuracy})


def main(steps=1000):
    columns = [tf.feature_column.numeric_column(name) for name in FEATURES]
    config = tf.estimator.RunConfig(tf_random_seed=1, log_step_count_steps=200, save_checkpoints_steps=500)
    root = tempfile.mkdtemp(prefix="iris_estimator_")
    custom = tf.estimator.Estimator(iris_model_fn, model_dir=os.path.join(root, "custom"), config=config,
                                    params={"feature_columns": columns})
    canned = tf.estimator.DNNClassifier(hidden_units=[10, 20, 10], feature_columns=columns, n_classes=3,
                                        model_dir=os.path.join(root, "canned"), config=config)
    results = {}
    for name, estimator in (("custom model_fn", custom), ("DNNClassifier", canned)):
        estimator.train(csv_input_fn(TRAIN_CSV, training=True), steps=steps)
        metrics = estimator.evaluate(csv_input_fn(TEST_CSV, training=False))
        results[name] = metrics["accuracy"]
        print(f"{name:>16}: test accuracy {metrics['accuracy']:.4f}  loss {metrics['loss']:.4f}  "
              f"(global step {metrics['global_step']})")
    first = next(canned.predict(csv_input_fn(TEST_CSV, training=False)))
    print("first test flower, DNNClassifier probabilities:", first["probabilities"].round(3))
    return results


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
