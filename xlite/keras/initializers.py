"""tf.keras.initializers: Keras' names for the frontend's initializers (init_ops.py), and `get`.

Keras' defaults differ from TF1's in the normal distributions: `glorot_normal`, `he_normal` and
`lecun_normal` draw from the truncated normal (as tf.keras does); the classes are the frontend's.
"""
from __future__ import annotations

from xlite.frontend import init_ops
from xlite.frontend.init_ops import (Constant, GlorotNormal, GlorotUniform, Identity, Initializer,  # noqa: F401
                                     Ones, RandomNormal, RandomUniform, TruncatedNormal, VarianceScaling, Zeros)


def HeNormal(seed=None) -> VarianceScaling:  # noqa: N802  (Keras' class name)
    return VarianceScaling(2.0, "fan_in", "truncated_normal", seed)


def HeUniform(seed=None) -> VarianceScaling:  # noqa: N802
    return VarianceScaling(2.0, "fan_in", "uniform", seed)


def LecunNormal(seed=None) -> VarianceScaling:  # noqa: N802
    return VarianceScaling(1.0, "fan_in", "truncated_normal", seed)


def LecunUniform(seed=None) -> VarianceScaling:  # noqa: N802
    return VarianceScaling(1.0, "fan_in", "uniform", seed)


def _keras_random_normal(mean=0.0, stddev=0.05, seed=None) -> RandomNormal:
    """Keras' RandomNormal defaults (stddev 0.05), not TF1's (1.0)."""
    return RandomNormal(mean, stddev, seed)


def _keras_random_uniform(minval=-0.05, maxval=0.05, seed=None) -> RandomUniform:
    """Keras' RandomUniform defaults (±0.05), also the 'uniform' of Embedding."""
    return RandomUniform(minval, maxval, seed)


class Orthogonal(Initializer):
    """A (scaled) orthogonal matrix, Keras' default for recurrent kernels: the Q of a seeded normal matrix's QR,
    made on the host (an initial value, like the seed itself: no graph op computes a QR)."""

    def __init__(self, gain: float = 1.0, seed=None):
        self.gain, self.seed = gain, seed

    def __call__(self, shape, dtype=None, partition_info=None):
        import numpy as np
        from xlite.frontend.convert import constant
        from xlite.ir import dtypes as xdtypes
        shape = [int(d) for d in shape]
        rows, cols = int(np.prod(shape[:-1])), shape[-1]
        flat = np.random.RandomState(self.seed).standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(flat)
        q *= np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        dtype = xdtypes.as_dtype(dtype or "float32")
        return constant((self.gain * q[:rows, :cols]).reshape(shape).astype(dtype.np))

    def get_config(self) -> dict:
        return {"gain": self.gain, "seed": self.seed}


_BY_NAME = {
    "zeros": Zeros, "ones": Ones, "constant": Constant, "random_normal": _keras_random_normal,
    "random_uniform": _keras_random_uniform, "uniform": _keras_random_uniform, "normal": _keras_random_normal,
    "truncated_normal": TruncatedNormal, "glorot_uniform": GlorotUniform,
    "glorot_normal": GlorotNormal, "he_normal": HeNormal, "he_uniform": HeUniform, "lecun_normal": LecunNormal,
    "lecun_uniform": LecunUniform, "identity": Identity, "variance_scaling": VarianceScaling,
    "orthogonal": Orthogonal,
}
zeros, ones = Zeros, Ones
glorot_uniform, glorot_normal = GlorotUniform, GlorotNormal
he_normal, he_uniform = HeNormal, HeUniform


def get(identifier):
    """An initializer from its Keras name, a config dict, an instance or a callable."""
    if identifier is None or callable(identifier) and not isinstance(identifier, type):
        return identifier
    if isinstance(identifier, dict):
        from xlite.keras.engine.model_config import accepted
        cls = _BY_NAME.get(snake(identifier["class_name"]))
        if cls is None:
            raise ValueError(f"Unknown initializer: '{identifier['class_name']}'")
        return cls(**accepted(identifier.get("config", {}), cls.__init__ if isinstance(cls, type) else cls,
                              what=f"tf.keras.initializers.{identifier['class_name']}"))
    if isinstance(identifier, str):
        key = snake(identifier)
        if key not in _BY_NAME:
            raise ValueError(f"Unknown initializer: '{identifier}'. Please ensure you are using a "
                             f"`keras.utils.custom_object_scope` and that this object is included in the scope.")
        if _BY_NAME[key] is None:
            from xlite import errors
            raise errors.unimplemented(f"tf.keras.initializers.{identifier} is not supported by xlite yet")
        return _BY_NAME[key]()
    if isinstance(identifier, type):
        return identifier()
    raise ValueError(f"Could not interpret initializer identifier: {identifier}")


def snake(name: str) -> str:
    import re
    return re.sub("([a-z0-9])([A-Z])", r"\1_\2", name).lower()


def serialize(initializer) -> dict:
    config = initializer.get_config() if hasattr(initializer, "get_config") else {}
    config.pop("dtype", None)
    return {"class_name": type(initializer).__name__, "config": config}


__all__ = ["get", "serialize", "Initializer", "Zeros", "Ones", "Constant", "RandomNormal", "RandomUniform",
           "TruncatedNormal", "GlorotUniform", "GlorotNormal", "HeNormal", "HeUniform", "VarianceScaling",
           "init_ops"]
