"""Keras's built-in data sets, as `keras.datasets`: each module's `load_data()` returns
NumPy arrays `(x_train, y_train), (x_test, y_test)`, the same arrays Keras 3.15 returns
for the same arguments.

The files are Keras's own, from the same URLs, checked against the same hashes and kept in
the same cache (`$KERAS_HOME/datasets`, default `~/.keras/datasets`): data a user already
downloaded with Keras is read without a download, and a file Cornu downloads serves Keras
too. Nothing here needs the service: the arrays are local, and `fit` uploads them.
"""

from __future__ import annotations

from cornu.datasets import (
    boston_housing,
    california_housing,
    cifar10,
    cifar100,
    fashion_mnist,
    imdb,
    mnist,
    reuters,
)

__all__ = [
    "boston_housing",
    "california_housing",
    "cifar10",
    "cifar100",
    "fashion_mnist",
    "imdb",
    "mnist",
    "reuters",
]
