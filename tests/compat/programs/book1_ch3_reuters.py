"""Classifying newswires: Reuters, single-label multiclass classification

source: https://github.com/fchollet/deep-learning-with-python-notebooks/blob/master/first_edition/3.6-classifying-newswires.ipynb
license: MIT
kind: declarative
changed: imports → cornu; Reuters from the fake Keras cache (512 train, 128 test newswires); validation split [:1000] → [:128]; epochs 20 → 2 and 8 → 1; the matplotlib cells and the random-baseline cell left out; fit's return values kept in names for the checks.
keras3: from keras.utils.np_utils import to_categorical => from keras.utils import to_categorical
"""

import cornu as keras

keras.__version__

from cornu.datasets import reuters

(train_data, train_labels), (test_data, test_labels) = reuters.load_data(num_words=10000)

len(train_data)
len(test_data)
train_data[10]

word_index = reuters.get_word_index()
reverse_word_index = dict([(value, key) for (key, value) in word_index.items()])
# Note that our indices were offset by 3
# because 0, 1 and 2 are reserved indices for "padding", "start of sequence", and "unknown".
decoded_newswire = " ".join([reverse_word_index.get(i - 3, "?") for i in train_data[0]])

train_labels[10]

import numpy as np


def vectorize_sequences(sequences, dimension=10000):
    results = np.zeros((len(sequences), dimension))
    for i, sequence in enumerate(sequences):
        results[i, sequence] = 1.0
    return results


# Our vectorized training data
x_train = vectorize_sequences(train_data)
# Our vectorized test data
x_test = vectorize_sequences(test_data)


def to_one_hot(labels, dimension=46):
    results = np.zeros((len(labels), dimension))
    for i, label in enumerate(labels):
        results[i, label] = 1.0
    return results


# Our vectorized training labels
one_hot_train_labels = to_one_hot(train_labels)
# Our vectorized test labels
one_hot_test_labels = to_one_hot(test_labels)

from cornu.utils.np_utils import to_categorical

one_hot_train_labels = to_categorical(train_labels)
one_hot_test_labels = to_categorical(test_labels)

from cornu import models
from cornu import layers

model = models.Sequential()
model.add(layers.Dense(64, activation="relu", input_shape=(10000,)))
model.add(layers.Dense(64, activation="relu"))
model.add(layers.Dense(46, activation="softmax"))

model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])

x_val = x_train[:128]
partial_x_train = x_train[128:]

y_val = one_hot_train_labels[:128]
partial_y_train = one_hot_train_labels[128:]

history = model.fit(
    partial_x_train, partial_y_train, epochs=2, batch_size=512, validation_data=(x_val, y_val)
)

model = models.Sequential()
model.add(layers.Dense(64, activation="relu", input_shape=(10000,)))
model.add(layers.Dense(64, activation="relu"))
model.add(layers.Dense(46, activation="softmax"))

model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
history_2 = model.fit(
    partial_x_train, partial_y_train, epochs=1, batch_size=512, validation_data=(x_val, y_val)
)
results = model.evaluate(x_test, one_hot_test_labels)

results

predictions = model.predict(x_test)
predictions[0].shape
np.sum(predictions[0])
np.argmax(predictions[0])

# --- checks ---
from tests.compat.harness import report

report(
    model=model, history=history, history_2=history_2, evaluation=results, predictions=predictions
)
