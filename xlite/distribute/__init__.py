"""tf.distribute: for now one device, so a strategy's scope is a no-op scope (the code under it runs as is)."""
from __future__ import annotations

import contextlib


class Strategy:
    """What `strategy.scope()` code asks of a strategy: a scope, the replica count, run and reduce."""

    def __init__(self, devices=None, cross_device_ops=None):
        self._devices = list(devices or ["/cpu:0"])

    @contextlib.contextmanager
    def scope(self):
        """Variables and models made inside are ordinary ones: there is one replica."""
        yield self

    @property
    def num_replicas_in_sync(self) -> int:
        return 1

    def run(self, fn, args=(), kwargs=None):
        return fn(*args, **(kwargs or {}))

    def reduce(self, reduce_op, value, axis=None):
        return value

    def experimental_distribute_dataset(self, dataset, options=None):
        return dataset


class MirroredStrategy(Strategy):
    pass


class OneDeviceStrategy(Strategy):
    def __init__(self, device="/cpu:0"):
        super().__init__([device])


_DEFAULT = Strategy()


def get_strategy() -> Strategy:
    return _DEFAULT


def has_strategy() -> bool:
    return False
