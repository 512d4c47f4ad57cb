"""`keras.preprocessing`: the `image`, `sequence` and `text` modules (Keras 2's paths, as
tf.keras keeps them) and Keras 3's dataset functions at the top level."""

from __future__ import annotations

from cornu.preprocessing import image, sequence, text
from cornu.utils.image_dataset import image_dataset_from_directory
from cornu.utils.text_dataset import text_dataset_from_directory
from cornu.utils.timeseries_dataset import timeseries_dataset_from_array

__all__ = [
    "image",
    "image_dataset_from_directory",
    "sequence",
    "text",
    "text_dataset_from_directory",
    "timeseries_dataset_from_array",
]
