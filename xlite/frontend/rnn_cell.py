"""tf.nn.rnn_cell (and tf.compat.v1.nn.rnn_cell): TF1's recurrent cells and wrappers."""
from xlite.frontend.rnn_cell_impl import (BasicLSTMCell, BasicRNNCell, GRUCell, LayerRNNCell,  # noqa: F401
                                          LSTMCell, LSTMStateTuple, MultiRNNCell, RNNCell)
from xlite.frontend.rnn_cell_wrappers import DeviceWrapper, DropoutWrapper, ResidualWrapper  # noqa: F401
