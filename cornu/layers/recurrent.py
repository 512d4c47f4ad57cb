"""Keras 2's `keras.layers.recurrent` module path, which older programs import from."""

from __future__ import annotations

from cornu.layers import GRU, LSTM, SimpleRNN

__all__ = ["GRU", "LSTM", "SimpleRNN"]
