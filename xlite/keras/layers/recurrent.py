"""Recurrent layers: not done yet in xlite; each raises UnimplementedError naming itself."""
from __future__ import annotations

from xlite import errors


def _unimplemented(name: str):
    def make(*args, **kwargs):
        raise errors.unimplemented(f"tf.keras.layers.{name} is not supported by xlite yet (issue #17)")
    make.__name__ = name
    return make


SimpleRNN = _unimplemented("SimpleRNN")
LSTM = _unimplemented("LSTM")
GRU = _unimplemented("GRU")
RNN = _unimplemented("RNN")
Bidirectional = _unimplemented("Bidirectional")
TimeDistributed = _unimplemented("TimeDistributed")
