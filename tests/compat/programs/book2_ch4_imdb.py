"""Classifying movie reviews (2nd edition): a Sequential given as a list, its input shape
taken from the data

source: https://github.com/fchollet/deep-learning-with-python-notebooks/blob/master/second_edition/chapter04_getting-started-with-neural-networks.ipynb (section "Classifying movie reviews")
license: MIT
kind: declarative
changed: `from tensorflow.keras…`/`from tensorflow import keras` → cornu; IMDB from the fake Keras cache (512 train, 128 test); validation split [:10000] → [:128]; epochs 20 → 2 and 4 → 1; the matplotlib cells left out; return values kept in names for the checks.
"""

from cornu.datasets import imdb

(train_data, train_labels), (test_data, test_labels) = imdb.load_data(num_words=10000)
train_data[0]
train_labels[0]
max([max(sequence) for sequence in train_data])
word_index = imdb.get_word_index()
reverse_word_index = dict([(value, key) for (key, value) in word_index.items()])
decoded_review = " ".join([reverse_word_index.get(i - 3, "?") for i in train_data[0]])
import numpy as np


def vectorize_sequences(sequences, dimension=10000):
    results = np.zeros((len(sequences), dimension))
    for i, sequence in enumerate(sequences):
        for j in sequence:
            results[i, j] = 1.0
    return results


x_train = vectorize_sequences(train_data)
x_test = vectorize_sequences(test_data)
x_train[0]
y_train = np.asarray(train_labels).astype("float32")
y_test = np.asarray(test_labels).astype("float32")
import cornu as keras
from cornu import layers

model = keras.Sequential(
    [
        layers.Dense(16, activation="relu"),
        layers.Dense(16, activation="relu"),
        layers.Dense(1, activation="sigmoid"),
    ]
)
model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
x_val = x_train[:128]
partial_x_train = x_train[128:]
y_val = y_train[:128]
partial_y_train = y_train[128:]
history = model.fit(
    partial_x_train, partial_y_train, epochs=2, batch_size=512, validation_data=(x_val, y_val)
)
history_dict = history.history
history_dict.keys()
model = keras.Sequential(
    [
        layers.Dense(16, activation="relu"),
        layers.Dense(16, activation="relu"),
        layers.Dense(1, activation="sigmoid"),
    ]
)
model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
model.fit(x_train, y_train, epochs=1, batch_size=512)
results = model.evaluate(x_test, y_test)
results
predictions = model.predict(x_test)

# --- checks ---
from tests.compat.harness import report

report(model=model, history=history, evaluation=results, predictions=predictions)
