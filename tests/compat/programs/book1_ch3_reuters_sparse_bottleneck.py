"""Reuters with integer labels (sparse_categorical_crossentropy, metrics=['acc']) and an
information bottleneck

source: https://github.com/fchollet/deep-learning-with-python-notebooks/blob/master/first_edition/3.6-classifying-newswires.ipynb (cells "A different way to handle the labels and the loss", "On the importance of having sufficiently large intermediate layers")
license: MIT
kind: declarative
changed: imports → cornu; Reuters from the fake Keras cache (512 train, 128 test); the data-preparation cells of the notebook repeated at the top; validation split [:1000] → [:128]; epochs 20 → 2; the sparse-label compile is followed by a fit (the notebook only compiles) so that it runs; return values kept in names for the checks.
"""

from cornu.datasets import reuters
from cornu.utils import to_categorical
import numpy as np

(train_data, train_labels), (test_data, test_labels) = reuters.load_data(num_words=10000)


def vectorize_sequences(sequences, dimension=10000):
    results = np.zeros((len(sequences), dimension))
    for i, sequence in enumerate(sequences):
        results[i, sequence] = 1.0
    return results


x_train = vectorize_sequences(train_data)
x_test = vectorize_sequences(test_data)
one_hot_train_labels = to_categorical(train_labels)
one_hot_test_labels = to_categorical(test_labels)

from cornu import models
from cornu import layers

x_val = x_train[:128]
partial_x_train = x_train[128:]
y_val = one_hot_train_labels[:128]
partial_y_train = one_hot_train_labels[128:]

y_train = np.array(train_labels)
y_test = np.array(test_labels)

model = models.Sequential()
model.add(layers.Dense(64, activation="relu", input_shape=(10000,)))
model.add(layers.Dense(64, activation="relu"))
model.add(layers.Dense(46, activation="softmax"))
model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["acc"])
history_sparse = model.fit(x_train, y_train, epochs=1, batch_size=512)
score_sparse = model.evaluate(x_test, y_test)

model = models.Sequential()
model.add(layers.Dense(64, activation="relu", input_shape=(10000,)))
model.add(layers.Dense(4, activation="relu"))
model.add(layers.Dense(46, activation="softmax"))

model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
history = model.fit(
    partial_x_train, partial_y_train, epochs=2, batch_size=128, validation_data=(x_val, y_val)
)

# --- checks ---
from tests.compat.harness import report

report(model=model, history=history, history_sparse=history_sparse, score_sparse=score_sparse)
