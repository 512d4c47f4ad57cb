"""Overfitting and underfitting: smaller, bigger, L2-regularized and dropout models on IMDB

source: https://github.com/fchollet/deep-learning-with-python-notebooks/blob/master/first_edition/4.4-overfitting-and-underfitting.ipynb
license: MIT
kind: declarative
changed: imports → cornu; IMDB from the fake Keras cache (512 train, 128 test); epochs 20 → 1 for each of the five models (and `range(1, 21)` → `range(1, 2)`); the matplotlib cells and the pseudo-code cells (`layer_output *= …`, a bare `model.add(layers.Dropout(0.5))`) left out.
"""

import cornu as keras

keras.__version__

from cornu.datasets import imdb
import numpy as np

(train_data, train_labels), (test_data, test_labels) = imdb.load_data(num_words=10000)


def vectorize_sequences(sequences, dimension=10000):
    # Create an all-zero matrix of shape (len(sequences), dimension)
    results = np.zeros((len(sequences), dimension))
    for i, sequence in enumerate(sequences):
        results[i, sequence] = 1.0  # set specific indices of results[i] to 1s
    return results


# Our vectorized training data
x_train = vectorize_sequences(train_data)
# Our vectorized test data
x_test = vectorize_sequences(test_data)
# Our vectorized labels
y_train = np.asarray(train_labels).astype("float32")
y_test = np.asarray(test_labels).astype("float32")

from cornu import models
from cornu import layers

original_model = models.Sequential()
original_model.add(layers.Dense(16, activation="relu", input_shape=(10000,)))
original_model.add(layers.Dense(16, activation="relu"))
original_model.add(layers.Dense(1, activation="sigmoid"))

original_model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["acc"])

smaller_model = models.Sequential()
smaller_model.add(layers.Dense(4, activation="relu", input_shape=(10000,)))
smaller_model.add(layers.Dense(4, activation="relu"))
smaller_model.add(layers.Dense(1, activation="sigmoid"))

smaller_model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["acc"])

original_hist = original_model.fit(
    x_train, y_train, epochs=1, batch_size=512, validation_data=(x_test, y_test)
)

smaller_model_hist = smaller_model.fit(
    x_train, y_train, epochs=1, batch_size=512, validation_data=(x_test, y_test)
)

epochs = range(1, 2)
original_val_loss = original_hist.history["val_loss"]
smaller_model_val_loss = smaller_model_hist.history["val_loss"]

bigger_model = models.Sequential()
bigger_model.add(layers.Dense(512, activation="relu", input_shape=(10000,)))
bigger_model.add(layers.Dense(512, activation="relu"))
bigger_model.add(layers.Dense(1, activation="sigmoid"))

bigger_model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["acc"])

bigger_model_hist = bigger_model.fit(
    x_train, y_train, epochs=1, batch_size=512, validation_data=(x_test, y_test)
)

bigger_model_val_loss = bigger_model_hist.history["val_loss"]
original_train_loss = original_hist.history["loss"]
bigger_model_train_loss = bigger_model_hist.history["loss"]

from cornu import regularizers

l2_model = models.Sequential()
l2_model.add(
    layers.Dense(
        16, kernel_regularizer=regularizers.l2(0.001), activation="relu", input_shape=(10000,)
    )
)
l2_model.add(layers.Dense(16, kernel_regularizer=regularizers.l2(0.001), activation="relu"))
l2_model.add(layers.Dense(1, activation="sigmoid"))

l2_model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["acc"])

l2_model_hist = l2_model.fit(
    x_train, y_train, epochs=1, batch_size=512, validation_data=(x_test, y_test)
)

l2_model_val_loss = l2_model_hist.history["val_loss"]

from cornu import regularizers

# L1 regularization
regularizers.l1(0.001)

# L1 and L2 regularization at the same time
regularizers.l1_l2(l1=0.001, l2=0.001)

dpt_model = models.Sequential()
dpt_model.add(layers.Dense(16, activation="relu", input_shape=(10000,)))
dpt_model.add(layers.Dropout(0.5))
dpt_model.add(layers.Dense(16, activation="relu"))
dpt_model.add(layers.Dropout(0.5))
dpt_model.add(layers.Dense(1, activation="sigmoid"))

dpt_model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["acc"])

dpt_model_hist = dpt_model.fit(
    x_train, y_train, epochs=1, batch_size=512, validation_data=(x_test, y_test)
)

dpt_model_val_loss = dpt_model_hist.history["val_loss"]

# --- checks ---
from tests.compat.harness import report

report(
    model_original=original_model,
    model_smaller=smaller_model,
    model_bigger=bigger_model,
    model_l2=l2_model,
    model_dropout=dpt_model,
    history_original=original_hist,
    history_smaller=smaller_model_hist,
    history_bigger=bigger_model_hist,
    history_l2=l2_model_hist,
    history_dropout=dpt_model_hist,
)
