"""Initializers for Variables: TF1's classes, each callable as `init(shape, dtype=None, partition_info=None)`.

Random initializers draw from xlite's Philox random ops, so a seeded initializer
gives the same values on every backend. Fan computations and the truncated-normal
correction follow TF1's `init_ops` exactly.
"""
from __future__ import annotations

import math

import numpy as np

from xlite.frontend import array_ops, convert, random_ops
from xlite.frontend import variables as _variables
from xlite.frontend.graph import Tensor
from xlite.frontend.tensor_shape import TensorShape
from xlite.ir import dtypes

__all__ = ["zeros_initializer", "ones_initializer", "constant_initializer", "random_normal_initializer",
           "truncated_normal_initializer", "random_uniform_initializer", "glorot_uniform_initializer",
           "glorot_normal_initializer", "variance_scaling_initializer"]

_TRUNCATED_NORMAL_STDDEV = 0.87962566103423978   # std of the unit normal truncated to [-2, 2]


def _dims(shape) -> list[int]:
    if isinstance(shape, Tensor):
        raise TypeError("initializers take a Python shape (list or TensorShape), not a Tensor")
    return TensorShape(shape).as_list()


def _float_dtype(dtype) -> dtypes.DType:
    dtype = dtypes.as_dtype(dtype)
    if not dtype.is_floating:
        raise ValueError(f"Expected floating point type, got {dtype.name}.")
    return dtype


class Initializer:
    """Base class: subclasses return the initial value as a Tensor."""

    def __call__(self, shape, dtype=None, partition_info=None) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} must implement __call__")

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)


class _Filled(Initializer):
    """One value everywhere: `_fill` is array_ops.zeros or array_ops.ones."""

    _fill = None

    def __init__(self, dtype=dtypes.float32):
        self.dtype = dtypes.as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None) -> Tensor:
        return type(self)._fill(_dims(shape), dtype or self.dtype)

    def get_config(self) -> dict:
        return {"dtype": self.dtype.name}


class Zeros(_Filled):
    _fill = staticmethod(array_ops.zeros)


class Ones(_Filled):
    _fill = staticmethod(array_ops.ones)


class Constant(Initializer):
    """A scalar fills the shape; a shorter list is padded with its last value, as TF1's constant does."""

    def __init__(self, value=0, dtype=dtypes.float32, verify_shape=False):
        if not (np.isscalar(value) or isinstance(value, (list, tuple, np.ndarray))):
            raise TypeError(f"Invalid type for initial value={value} of type: {type(value).__name__}. "
                            "Expected Python scalar, list or tuple of values, or numpy.ndarray.")
        self.value = value
        self.dtype = dtypes.as_dtype(dtype)
        self._verify_shape = verify_shape

    def __call__(self, shape, dtype=None, partition_info=None, verify_shape=None) -> Tensor:
        dims = _dims(shape)
        verify = self._verify_shape if verify_shape is None else verify_shape
        if verify and list(np.shape(self.value)) != dims:
            raise TypeError(f"Expected Tensor's shape: {tuple(dims)}, but got {np.shape(self.value)}.")
        return convert.constant(self.value, dtype=dtype or self.dtype, shape=dims)

    def get_config(self) -> dict:
        return {"value": self.value, "dtype": self.dtype.name}


class RandomUniform(Initializer):
    def __init__(self, minval=0.0, maxval=None, seed=None, dtype=dtypes.float32):
        self.minval, self.maxval, self.seed = minval, maxval, seed
        self.dtype = dtypes.as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None) -> Tensor:
        return random_ops.random_uniform(_dims(shape), self.minval, self.maxval, dtype or self.dtype,
                                         seed=self.seed)

    def get_config(self) -> dict:
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed, "dtype": self.dtype.name}


class _Normal(Initializer):
    """Samples of mean and stddev: `_sample` is random_ops.random_normal or truncated_normal."""

    _sample = None

    def __init__(self, mean=0.0, stddev=1.0, seed=None, dtype=dtypes.float32):
        self.mean, self.stddev, self.seed = mean, stddev, seed
        self.dtype = _float_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None) -> Tensor:
        return type(self)._sample(_dims(shape), self.mean, self.stddev, _float_dtype(dtype or self.dtype),
                                  seed=self.seed)

    def get_config(self) -> dict:
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed, "dtype": self.dtype.name}


class RandomNormal(_Normal):
    _sample = staticmethod(random_ops.random_normal)


class TruncatedNormal(_Normal):
    """Normal values more than two standard deviations from the mean are redrawn (TF's definition)."""

    _sample = staticmethod(random_ops.truncated_normal)


def compute_fans(shape) -> tuple[int, int]:
    """(fan_in, fan_out): a conv kernel's spatial dims multiply both, as in TF."""
    shape = list(shape)
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return int(shape[0]), int(shape[0])
    if len(shape) == 2:
        return int(shape[0]), int(shape[1])
    receptive = int(np.prod(shape[:-2]))
    return int(shape[-2] * receptive), int(shape[-1] * receptive)


class VarianceScaling(Initializer):
    """Samples with variance scale / fan; TF1's default distribution is the truncated normal."""

    _MODES = ("fan_in", "fan_out", "fan_avg")
    _DISTRIBUTIONS = ("normal", "uniform", "truncated_normal", "untruncated_normal")

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None,
                 dtype=dtypes.float32):
        if scale <= 0.0:
            raise ValueError(f"Argument `scale` must be a positive float. Received: {scale}")
        if mode not in self._MODES:
            raise ValueError(f"Argument `mode` should be one of {self._MODES}. Received: {mode}")
        distribution = distribution.lower()
        if distribution not in self._DISTRIBUTIONS:
            raise ValueError(f"Argument `distribution` should be one of {self._DISTRIBUTIONS}. "
                             f"Received: {distribution}")
        self.scale, self.mode, self.distribution, self.seed = scale, mode, distribution, seed
        self.dtype = _float_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None) -> Tensor:
        dims = _dims(shape)
        dtype = _float_dtype(dtype or self.dtype)
        fan_in, fan_out = compute_fans(dims)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        scale = self.scale / max(1.0, fan)
        if self.distribution in ("normal", "truncated_normal"):
            stddev = math.sqrt(scale) / _TRUNCATED_NORMAL_STDDEV
            return random_ops.truncated_normal(dims, 0.0, stddev, dtype, seed=self.seed)
        if self.distribution == "untruncated_normal":
            return random_ops.random_normal(dims, 0.0, math.sqrt(scale), dtype, seed=self.seed)
        limit = math.sqrt(3.0 * scale)
        return random_ops.random_uniform(dims, -limit, limit, dtype, seed=self.seed)

    def get_config(self) -> dict:
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                "seed": self.seed, "dtype": self.dtype.name}


class GlorotUniform(VarianceScaling):
    """Uniform on ±sqrt(6 / (fan_in + fan_out)): the default of tf.get_variable and tf.layers."""

    def __init__(self, seed=None, dtype=dtypes.float32):
        super().__init__(1.0, "fan_avg", "uniform", seed, dtype)

    def get_config(self) -> dict:
        return {"seed": self.seed, "dtype": self.dtype.name}


class GlorotNormal(VarianceScaling):
    def __init__(self, seed=None, dtype=dtypes.float32):
        super().__init__(1.0, "fan_avg", "truncated_normal", seed, dtype)

    def get_config(self) -> dict:
        return {"seed": self.seed, "dtype": self.dtype.name}


class Identity(Initializer):
    """gain times the identity matrix, for square or rectangular 2-D shapes."""

    def __init__(self, gain=1.0, dtype=dtypes.float32):
        self.gain = gain
        self.dtype = _float_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None) -> Tensor:
        dims = _dims(shape)
        if len(dims) != 2:
            raise ValueError("The tensor to initialize, specified by argument `shape` must be at least "
                             f"two-dimensional. Received shape={dims}")
        dtype = dtype or self.dtype
        return convert.constant(self.gain * np.eye(*dims), dtype=dtype)

    def get_config(self) -> dict:
        return {"gain": self.gain, "dtype": self.dtype.name}


def he_normal(seed=None) -> VarianceScaling:
    return VarianceScaling(2.0, "fan_in", "truncated_normal", seed)


def he_uniform(seed=None) -> VarianceScaling:
    return VarianceScaling(2.0, "fan_in", "uniform", seed)


def lecun_normal(seed=None) -> VarianceScaling:
    return VarianceScaling(1.0, "fan_in", "truncated_normal", seed)


def lecun_uniform(seed=None) -> VarianceScaling:
    return VarianceScaling(1.0, "fan_in", "uniform", seed)


# TF1's names: tf.zeros_initializer ... and, under tf.initializers, the short ones
zeros_initializer = zeros = Zeros
ones_initializer = ones = Ones
constant_initializer = constant = Constant
random_normal_initializer = random_normal = RandomNormal
truncated_normal_initializer = truncated_normal = TruncatedNormal
random_uniform_initializer = random_uniform = RandomUniform
glorot_uniform_initializer = glorot_uniform = GlorotUniform
glorot_normal_initializer = glorot_normal = GlorotNormal
variance_scaling_initializer = variance_scaling = VarianceScaling
identity = Identity
global_variables = _variables.global_variables_initializer
local_variables = _variables.local_variables_initializer
variables = _variables.variables_initializer
