"""The Keras programs of shared/USERS.md's glossary, unchanged (data made small)."""
import numpy as np
import pytest

import xlite as tf


@pytest.mark.slow
def test_dataset_pipeline_feeds_fit():
    rng = np.random.RandomState(0)
    images = rng.randint(0, 256, (256, 28, 28)).astype(np.uint8)
    labels = (images.reshape(256, -1).mean(1) > 127.5).astype(np.int64)

    def normalize(image, label):
        return tf.cast(image, tf.float32) / 255.0, label

    model = tf.keras.models.Sequential([
        tf.keras.layers.Flatten(input_shape=(28, 28)),
        tf.keras.layers.Dense(16, activation='relu'),
        tf.keras.layers.Dense(2)])
    model.compile(optimizer='adam', loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=['accuracy'])
    ds = tf.data.Dataset.from_tensor_slices((images, labels))
    ds = ds.map(normalize).shuffle(1000).batch(128).prefetch(tf.data.experimental.AUTOTUNE)
    history = model.fit(ds, epochs=3, verbose=0)
    assert len(history.history["loss"]) == 3 and history.history["loss"][-1] < history.history["loss"][0]


def test_model_under_mirrored_strategy_scope_compiles():
    strategy = tf.distribute.MirroredStrategy()
    with strategy.scope():
        model = tf.keras.Sequential([tf.keras.layers.Dense(64, activation='relu', input_shape=(784,)),
                                     tf.keras.layers.Dense(10, activation='softmax')])
        model.compile(loss='sparse_categorical_crossentropy', optimizer=tf.keras.optimizers.Adam(),
                      metrics=['accuracy'])
    loss, accuracy = model.evaluate(np.zeros((4, 784), np.float32), np.arange(4), verbose=0)
    assert abs(loss - np.log(10)) < 1e-5
