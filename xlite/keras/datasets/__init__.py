"""tf.keras.datasets: read from Keras' local cache (~/.keras/datasets), never downloaded."""
from xlite.keras.datasets import mnist  # noqa: F401
