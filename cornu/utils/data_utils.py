"""Keras 2's `keras.utils.data_utils` module path: `get_file` and `Sequence`."""

from __future__ import annotations

from cornu.utils.file_utils import get_file
from cornu.utils.py_dataset import PyDataset, Sequence

__all__ = ["PyDataset", "Sequence", "get_file"]
