import pytest

import xlite as tf


@pytest.fixture(autouse=True)
def fresh_keras_graph():
    """Each test builds into a fresh default graph with fresh layer names (Keras' clear_session)."""
    tf.keras.backend.clear_session()
    yield
    tf.keras.backend.clear_session()
