"""tf.keras.layers."""
from __future__ import annotations

from xlite.keras.engine.base_layer import Layer
from xlite.keras.engine.input_layer import Input, InputLayer
from xlite.keras.layers.convolutional import Conv1D, Conv2D, Conv2DTranspose, UpSampling2D, ZeroPadding2D
from xlite.keras.layers.core import ActivityRegularization, Activation, Dense, Dropout, Flatten, Lambda, Reshape
from xlite.keras.layers.embeddings import Embedding
from xlite.keras.layers.merge import (Add, Average, Concatenate, Maximum, Minimum, Multiply, Subtract, add,
                                      average, concatenate, maximum, minimum, multiply, subtract)
from xlite.keras.layers.normalization import BatchNormalization, LayerNormalization
from xlite.keras.layers.pooling import (AveragePooling1D, AveragePooling2D, AvgPool1D, AvgPool2D,
                                        GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalAvgPool1D,
                                        GlobalAvgPool2D, GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPooling1D,
                                        GlobalMaxPooling2D, MaxPool1D, MaxPool2D, MaxPooling1D, MaxPooling2D)
from xlite.keras.layers.recurrent import GRU, LSTM, RNN, Bidirectional, SimpleRNN, TimeDistributed

Convolution1D, Convolution2D, Conv2DTranspose, Deconvolution2D = Conv1D, Conv2D, Conv2DTranspose, Conv2DTranspose


def _all_layer_classes() -> dict:
    """Every layer class by name (model_from_json's lookup)."""
    return {name: value for name, value in globals().items()
            if isinstance(value, type) and issubclass(value, Layer)}
