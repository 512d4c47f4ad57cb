"""`keras.utils` for Cornu: data utilities that run on the client, with Keras 3's
signatures, defaults and errors.

Where Keras returns a `tf.data.Dataset` (`image_dataset_from_directory`,
`text_dataset_from_directory`, `timeseries_dataset_from_array`, `split_dataset`), Cornu
returns an `ArrayDataset`: a `PyDataset` of numpy arrays with the tf.data methods
tutorials chain. `fit` draws batches from any `PyDataset`, and uploads the arrays of one
whose `as_arrays()` gives them.
"""

from __future__ import annotations

from cornu.utils import data_utils, np_utils
from cornu.utils.array_dataset import ArrayDataset
from cornu.utils.dataset_split import split_dataset
from cornu.utils.file_utils import get_file
from cornu.utils.image_dataset import image_dataset_from_directory
from cornu.utils.image_utils import array_to_img, img_to_array, load_img, save_img
from cornu.utils.model_visualization import model_to_dot, plot_model
from cornu.utils.numerical import normalize, to_categorical
from cornu.utils.py_dataset import PyDataset, Sequence
from cornu.utils.rng import set_random_seed
from cornu.utils.sequence_utils import pad_sequences
from cornu.utils.text_dataset import text_dataset_from_directory
from cornu.utils.timeseries_dataset import timeseries_dataset_from_array

__all__ = [
    "ArrayDataset",
    "PyDataset",
    "Sequence",
    "array_to_img",
    "get_file",
    "image_dataset_from_directory",
    "img_to_array",
    "load_img",
    "model_to_dot",
    "normalize",
    "data_utils",
    "np_utils",
    "pad_sequences",
    "plot_model",
    "save_img",
    "set_random_seed",
    "split_dataset",
    "text_dataset_from_directory",
    "timeseries_dataset_from_array",
    "to_categorical",
]
