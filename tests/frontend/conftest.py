"""Every frontend test builds in a fresh default graph (TF's tests do the same with their graph scopes)."""
import pytest

import xlite as tf


@pytest.fixture(autouse=True)
def graph():
    with tf.Graph().as_default() as g:
        yield g
