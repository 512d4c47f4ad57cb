"""Classifying newswires (2nd edition): Reuters with one-hot and integer labels

source: https://github.com/fchollet/deep-learning-with-python-notebooks/blob/master/second_edition/chapter04_getting-started-with-neural-networks.ipynb (section "Classifying newswires")
license: MIT
kind: declarative
changed: `from tensorflow…` imports → cornu; Reuters from the fake Keras cache (512 train, 128 test); validation split [:1000] → [:128]; epochs 20 → 2, 9 → 1 and 20 → 1; the matplotlib cells left out; the bottleneck model's fit assigned to `history_bottleneck` for the checks.
"""

import numpy as np
from cornu.datasets import reuters

(train_data, train_labels), (test_data, test_labels) = reuters.load_data(num_words=10000)
len(train_data)
len(test_data)
train_data[10]
word_index = reuters.get_word_index()
reverse_word_index = dict([(value, key) for (key, value) in word_index.items()])
decoded_newswire = " ".join([reverse_word_index.get(i - 3, "?") for i in train_data[0]])
train_labels[10]


def vectorize_sequences(sequences, dimension=10000):
    results = np.zeros((len(sequences), dimension))
    for i, sequence in enumerate(sequences):
        for j in sequence:
            results[i, j] = 1.0
    return results


x_train = vectorize_sequences(train_data)
x_test = vectorize_sequences(test_data)


def to_one_hot(labels, dimension=46):
    results = np.zeros((len(labels), dimension))
    for i, label in enumerate(labels):
        results[i, label] = 1.0
    return results


y_train = to_one_hot(train_labels)
y_test = to_one_hot(test_labels)
from cornu.utils import to_categorical

y_train = to_categorical(train_labels)
y_test = to_categorical(test_labels)
import cornu as keras
from cornu import layers

model = keras.Sequential(
    [
        layers.Dense(64, activation="relu"),
        layers.Dense(64, activation="relu"),
        layers.Dense(46, activation="softmax"),
    ]
)
model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
x_val = x_train[:128]
partial_x_train = x_train[128:]
y_val = y_train[:128]
partial_y_train = y_train[128:]
history = model.fit(
    partial_x_train, partial_y_train, epochs=2, batch_size=512, validation_data=(x_val, y_val)
)
model = keras.Sequential(
    [
        layers.Dense(64, activation="relu"),
        layers.Dense(64, activation="relu"),
        layers.Dense(46, activation="softmax"),
    ]
)
model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
model.fit(x_train, y_train, epochs=1, batch_size=512)
results = model.evaluate(x_test, y_test)
results
import copy

test_labels_copy = copy.copy(test_labels)
np.random.shuffle(test_labels_copy)
hits_array = np.array(test_labels) == np.array(test_labels_copy)
hits_array.mean()
predictions = model.predict(x_test)
predictions[0].shape
np.sum(predictions[0])
np.argmax(predictions[0])
y_train = np.array(train_labels)
y_test = np.array(test_labels)
model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model = keras.Sequential(
    [
        layers.Dense(64, activation="relu"),
        layers.Dense(4, activation="relu"),
        layers.Dense(46, activation="softmax"),
    ]
)
model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
history_bottleneck = model.fit(
    partial_x_train, partial_y_train, epochs=1, batch_size=128, validation_data=(x_val, y_val)
)

# --- checks ---
from tests.compat.harness import report

report(
    model=model,
    history=history,
    history_bottleneck=history_bottleneck,
    evaluation=results,
    predictions=predictions,
)
