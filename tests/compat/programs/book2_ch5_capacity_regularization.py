"""Fundamentals of ML (2nd edition): too small and larger MNIST models; smaller, larger,
L2-regularized and dropout IMDB models with validation_split=0.4

source: https://github.com/fchollet/deep-learning-with-python-notebooks/blob/master/second_edition/chapter05_fundamentals-of-ml.ipynb (sections "Improving model fit", "Improving generalization")
license: MIT
kind: declarative
changed: `from tensorflow…` imports → cornu; MNIST and IMDB from the fake Keras cache (512 train), so the reshape's 60000 became 512; epochs 20 → 1 for each model; the matplotlib cells left out.
"""

from cornu.datasets import mnist
import numpy as np
import cornu as keras
from cornu import layers

(train_images, train_labels), _ = mnist.load_data()
train_images = train_images.reshape((512, 28 * 28))
train_images = train_images.astype("float32") / 255

model = keras.Sequential([layers.Dense(10, activation="softmax")])
model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
history_small_model = model.fit(
    train_images, train_labels, epochs=1, batch_size=128, validation_split=0.2
)
model_small = model

model = keras.Sequential(
    [
        layers.Dense(96, activation="relu"),
        layers.Dense(96, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ]
)
model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
history_large_model = model.fit(
    train_images, train_labels, epochs=1, batch_size=128, validation_split=0.2
)

from cornu.datasets import imdb

(train_data, train_labels), _ = imdb.load_data(num_words=10000)


def vectorize_sequences(sequences, dimension=10000):
    results = np.zeros((len(sequences), dimension))
    for i, sequence in enumerate(sequences):
        results[i, sequence] = 1.0
    return results


train_data = vectorize_sequences(train_data)

model = keras.Sequential(
    [
        layers.Dense(16, activation="relu"),
        layers.Dense(16, activation="relu"),
        layers.Dense(1, activation="sigmoid"),
    ]
)
model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
history_original = model.fit(
    train_data, train_labels, epochs=1, batch_size=512, validation_split=0.4
)

model = keras.Sequential(
    [
        layers.Dense(4, activation="relu"),
        layers.Dense(4, activation="relu"),
        layers.Dense(1, activation="sigmoid"),
    ]
)
model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
history_smaller_model = model.fit(
    train_data, train_labels, epochs=1, batch_size=512, validation_split=0.4
)

model = keras.Sequential(
    [
        layers.Dense(512, activation="relu"),
        layers.Dense(512, activation="relu"),
        layers.Dense(1, activation="sigmoid"),
    ]
)
model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
history_larger_model = model.fit(
    train_data, train_labels, epochs=1, batch_size=512, validation_split=0.4
)

from cornu import regularizers

model = keras.Sequential(
    [
        layers.Dense(16, kernel_regularizer=regularizers.l2(0.002), activation="relu"),
        layers.Dense(16, kernel_regularizer=regularizers.l2(0.002), activation="relu"),
        layers.Dense(1, activation="sigmoid"),
    ]
)
model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
history_l2_reg = model.fit(train_data, train_labels, epochs=1, batch_size=512, validation_split=0.4)
model_l2 = model

from cornu import regularizers

regularizers.l1(0.001)
regularizers.l1_l2(l1=0.001, l2=0.001)

model = keras.Sequential(
    [
        layers.Dense(16, activation="relu"),
        layers.Dropout(0.5),
        layers.Dense(16, activation="relu"),
        layers.Dropout(0.5),
        layers.Dense(1, activation="sigmoid"),
    ]
)
model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
history_dropout = model.fit(
    train_data, train_labels, epochs=1, batch_size=512, validation_split=0.4
)

# --- checks ---
from tests.compat.harness import report

report(
    model_small=model_small,
    model_l2=model_l2,
    model_dropout=model,
    history_small_model=history_small_model,
    history_large_model=history_large_model,
    history_original=history_original,
    history_smaller_model=history_smaller_model,
    history_larger_model=history_larger_model,
    history_l2_reg=history_l2_reg,
    history_dropout=history_dropout,
)
