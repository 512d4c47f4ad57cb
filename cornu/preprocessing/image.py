"""`keras.preprocessing.image`: Keras 2's image preprocessing (the first edition of the
book's `from keras.preprocessing.image import ImageDataGenerator`) and Keras 3's image
file helpers, as tf.keras exports them."""

from __future__ import annotations

from cornu.preprocessing.affine import (
    apply_affine_transform,
    apply_brightness_shift,
    apply_channel_shift,
    random_brightness,
    random_channel_shift,
    random_rotation,
    random_shear,
    random_shift,
    random_zoom,
)
from cornu.preprocessing.directory_iterator import DirectoryIterator
from cornu.preprocessing.image_data_generator import ImageDataGenerator
from cornu.preprocessing.image_iterators import Iterator, NumpyArrayIterator
from cornu.utils.image_utils import array_to_img, img_to_array, load_img, save_img, smart_resize

__all__ = [
    "DirectoryIterator",
    "ImageDataGenerator",
    "Iterator",
    "NumpyArrayIterator",
    "apply_affine_transform",
    "apply_brightness_shift",
    "apply_channel_shift",
    "array_to_img",
    "img_to_array",
    "load_img",
    "random_brightness",
    "random_channel_shift",
    "random_rotation",
    "random_shear",
    "random_shift",
    "random_zoom",
    "save_img",
    "smart_resize",
]
