"""Classifying movie reviews: IMDB, binary classification with Dense layers

source: https://github.com/fchollet/deep-learning-with-python-notebooks/blob/master/first_edition/3.5-classifying-movie-reviews.ipynb
license: MIT
kind: declarative
changed: imports → cornu; IMDB from the fake Keras cache (512 train, 128 test reviews); validation split x_train[:10000] → x_train[:128]; epochs 20 → 2 and 4 → 1; the matplotlib cells left out; fit's and predict's return values kept in names for the checks.
keras3: optimizers.RMSprop(lr=0.001) => optimizers.RMSprop(learning_rate=0.001)
"""

import cornu as keras

keras.__version__

from cornu.datasets import imdb

(train_data, train_labels), (test_data, test_labels) = imdb.load_data(num_words=10000)

train_data[0]
train_labels[0]
max([max(sequence) for sequence in train_data])

# word_index is a dictionary mapping words to an integer index
word_index = imdb.get_word_index()
# We reverse it, mapping integer indices to words
reverse_word_index = dict([(value, key) for (key, value) in word_index.items()])
# We decode the review; note that our indices were offset by 3
# because 0, 1 and 2 are reserved indices for "padding", "start of sequence", and "unknown".
decoded_review = " ".join([reverse_word_index.get(i - 3, "?") for i in train_data[0]])

import numpy as np


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

model = models.Sequential()
model.add(layers.Dense(16, activation="relu", input_shape=(10000,)))
model.add(layers.Dense(16, activation="relu"))
model.add(layers.Dense(1, activation="sigmoid"))

model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])

from cornu import optimizers

model.compile(
    optimizer=optimizers.RMSprop(lr=0.001), loss="binary_crossentropy", metrics=["accuracy"]
)

from cornu import losses
from cornu import metrics

model.compile(
    optimizer=optimizers.RMSprop(lr=0.001),
    loss=losses.binary_crossentropy,
    metrics=[metrics.binary_accuracy],
)

x_val = x_train[:128]
partial_x_train = x_train[128:]

y_val = y_train[:128]
partial_y_train = y_train[128:]

history = model.fit(
    partial_x_train, partial_y_train, epochs=2, batch_size=512, validation_data=(x_val, y_val)
)

history_dict = history.history
history_dict.keys()

model = models.Sequential()
model.add(layers.Dense(16, activation="relu", input_shape=(10000,)))
model.add(layers.Dense(16, activation="relu"))
model.add(layers.Dense(1, activation="sigmoid"))

model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])

history_2 = model.fit(x_train, y_train, epochs=1, batch_size=512)
results = model.evaluate(x_test, y_test)

results

predictions = model.predict(x_test)

# --- checks ---
from tests.compat.harness import report

report(
    model=model,
    history=history,
    history_2=history_2,
    evaluation=results,
    predictions=predictions,
    keys_of_history_dict=sorted(history_dict),
)
