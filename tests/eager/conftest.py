"""Every eager test runs eagerly inside `eager_mode()` and leaves graph mode (TF1's default) as it found it.

`target` runs a test on both targets: cpu (native kernels) and the interpreter."""
import pytest

from xlite.eager import dispatch
from xlite.eager.context import eager_mode
from xlite.frontend.graph import executing_eagerly


@pytest.fixture
def eager():
    assert not executing_eagerly()
    with eager_mode():
        yield
    assert not executing_eagerly()


@pytest.fixture(params=["cpu", "interpreter"])
def target(request, eager):
    dispatch.set_target(request.param)
    yield request.param
    dispatch.set_target(None)
