"""Every tf.function test starts in a fresh default graph (graph mode, TF1's default)."""
import pytest

import xlite as tf


@pytest.fixture(autouse=True)
def graph():
    with tf.Graph().as_default() as g:
        yield g
