"""TensorFlow's Keras quickstart, unchanged, on MNIST-like data: scikit-learn's 8x8 digits upscaled to 28x28.

Each 8x8 digit (0-16) becomes a 24x24 image (every pixel 3x3) padded to 28x28 and scaled to 0-255, so the
program below is the quickstart as written for `tf.keras.datasets.mnist`.
"""
import numpy as np

import xlite as tf
from xlite import datasets


def mnist_like():
    (x_train, y_train), (x_test, y_test) = datasets.load_digits()

    def images(flat):
        big = np.kron(flat.reshape(-1, 8, 8), np.ones((3, 3), np.float32))
        return np.round(np.pad(big, [(0, 0), (2, 2), (2, 2)]) * 255).astype(np.uint8)
    return (images(x_train), y_train.astype(np.uint8)), (images(x_test), y_test.astype(np.uint8))


tf.set_random_seed(0)
np.random.seed(0)
(x_train, y_train), (x_test, y_test) = mnist_like()
x_train, x_test = x_train / 255.0, x_test / 255.0

model = tf.keras.models.Sequential([
    tf.keras.layers.Flatten(input_shape=(28, 28)),
    tf.keras.layers.Dense(128, activation="relu"),
    tf.keras.layers.Dropout(0.2),
    tf.keras.layers.Dense(10)
])
loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
model.compile(optimizer="adam", loss=loss_fn, metrics=["accuracy"])
model.summary()
history = model.fit(x_train, y_train, epochs=5)
for epoch, loss in enumerate(history.history["loss"]):
    print(f"epoch {epoch + 1}: loss {loss:.4f}")
test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=2)
print(f"test accuracy: {test_accuracy:.4f}")
