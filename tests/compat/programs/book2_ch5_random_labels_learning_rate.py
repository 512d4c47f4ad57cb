"""Fundamentals of ML (2nd edition): fitting shuffled labels, then RMSprop given a
positional learning rate (1.0 and 1e-2)

source: https://github.com/fchollet/deep-learning-with-python-notebooks/blob/master/second_edition/chapter05_fundamentals-of-ml.ipynb (cells "Fitting an MNIST model with randomly shuffled labels", "Training an MNIST model with an incorrectly high learning rate", "The same model with a more appropriate learning rate")
license: MIT
kind: declarative
changed: `from tensorflow…` imports → cornu; MNIST from the fake Keras cache (512 train), so the reshapes' 60000 became 512; epochs 100 → 2 and 10 → 1; fit's return values assigned for the checks.
"""

from cornu.datasets import mnist
import numpy as np
import cornu as keras
from cornu import layers

(train_images, train_labels), _ = mnist.load_data()
train_images = train_images.reshape((512, 28 * 28))
train_images = train_images.astype("float32") / 255

random_train_labels = train_labels[:]
np.random.shuffle(random_train_labels)

model = keras.Sequential(
    [layers.Dense(512, activation="relu"), layers.Dense(10, activation="softmax")]
)
model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
history_random = model.fit(
    train_images, random_train_labels, epochs=2, batch_size=128, validation_split=0.2
)

(train_images, train_labels), _ = mnist.load_data()
train_images = train_images.reshape((512, 28 * 28))
train_images = train_images.astype("float32") / 255

model = keras.Sequential(
    [layers.Dense(512, activation="relu"), layers.Dense(10, activation="softmax")]
)
model.compile(
    optimizer=keras.optimizers.RMSprop(1.0),
    loss="sparse_categorical_crossentropy",
    metrics=["accuracy"],
)
history_high = model.fit(train_images, train_labels, epochs=1, batch_size=128, validation_split=0.2)

model = keras.Sequential(
    [layers.Dense(512, activation="relu"), layers.Dense(10, activation="softmax")]
)
model.compile(
    optimizer=keras.optimizers.RMSprop(1e-2),
    loss="sparse_categorical_crossentropy",
    metrics=["accuracy"],
)
history = model.fit(train_images, train_labels, epochs=1, batch_size=128, validation_split=0.2)

# --- checks ---
from tests.compat.harness import report

report(model=model, history_random=history_random, history_high=history_high, history=history)
