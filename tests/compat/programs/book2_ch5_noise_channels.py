"""Fundamentals of ML (2nd edition): MNIST with white-noise or all-zeros channels added,
one model-building function called twice

source: https://github.com/fchollet/deep-learning-with-python-notebooks/blob/master/second_edition/chapter05_fundamentals-of-ml.ipynb (cell "Adding white-noise channels or all-zeros channels to MNIST")
license: MIT
kind: declarative
changed: `from tensorflow…` imports → cornu; MNIST from the fake Keras cache (512 train), so the reshape's 60000 became 512; epochs 10 → 2; the matplotlib cell left out.
"""

from cornu.datasets import mnist
import numpy as np

(train_images, train_labels), _ = mnist.load_data()
train_images = train_images.reshape((512, 28 * 28))
train_images = train_images.astype("float32") / 255

train_images_with_noise_channels = np.concatenate(
    [train_images, np.random.random((len(train_images), 784))], axis=1
)

train_images_with_zeros_channels = np.concatenate(
    [train_images, np.zeros((len(train_images), 784))], axis=1
)

import cornu as keras
from cornu import layers


def get_model():
    model = keras.Sequential(
        [layers.Dense(512, activation="relu"), layers.Dense(10, activation="softmax")]
    )
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


model = get_model()
history_noise = model.fit(
    train_images_with_noise_channels, train_labels, epochs=2, batch_size=128, validation_split=0.2
)

model = get_model()
history_zeros = model.fit(
    train_images_with_zeros_channels, train_labels, epochs=2, batch_size=128, validation_split=0.2
)

# --- checks ---
from tests.compat.harness import report

report(model=model, history_noise=history_noise, history_zeros=history_zeros)
