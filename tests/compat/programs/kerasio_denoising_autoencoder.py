"""Convolutional autoencoder for image denoising: Conv2D/MaxPooling2D(padding="same")/
UpSampling2D, fit twice (clean, then noisy inputs), predict

source: https://github.com/keras-team/keras-io/blob/master/examples/vision/autoencoder.py
license: Apache-2.0
kind: declarative
changed: `from tensorflow.keras.… import …` → `from cornu.… import …`; the unused `import tensorflow as tf`, `import matplotlib.pyplot as plt`, the display() function and its three calls left out (matplotlib); MNIST from the fake Keras cache (512 train, 128 test); epochs 50 → 1 and 100 → 1; fit's return values kept for the checks.
"""

import numpy as np

from cornu.models import Model
from cornu.layers import Conv2D, MaxPooling2D, Input, UpSampling2D
from cornu.datasets import mnist


def preprocess(dataset):
    """
    Normalizes the supplied dataset and reshapes it into the appropriate format.
    """

    dataset = dataset.astype("float32") / 255.0
    dataset = np.reshape(dataset, (len(dataset), 28, 28, 1))
    return dataset


def noise(dataset):
    """
    Adds random noise to each image in the supplied dataset.
    """

    noise_factor = 0.4
    noisy_dataset = dataset + noise_factor * np.random.normal(
        loc=0.0, scale=1.0, size=dataset.shape
    )

    return np.clip(noisy_dataset, 0.0, 1.0)


# We only need images from the dataset. We will never use the target values so
# we aren't going to load them.
(train_dataset, _), (test_dataset, _) = mnist.load_data()

# Normalize and reshape the data
train_dataset = preprocess(train_dataset)
test_dataset = preprocess(test_dataset)

# Create a copy of the datasets with added noise
noisy_train_dataset = noise(train_dataset)
noisy_test_dataset = noise(test_dataset)

input = Input(shape=(28, 28, 1))

# Encoder
x = Conv2D(32, (3, 3), activation="relu", padding="same")(input)
x = MaxPooling2D((2, 2), padding="same")(x)
x = Conv2D(32, (3, 3), activation="relu", padding="same")(x)
x = MaxPooling2D((2, 2), padding="same")(x)

# Decoder
x = Conv2D(32, (3, 3), activation="relu", padding="same")(x)
x = UpSampling2D((2, 2))(x)
x = Conv2D(32, (3, 3), activation="relu", padding="same")(x)
x = UpSampling2D((2, 2))(x)
x = Conv2D(1, (3, 3), activation="sigmoid", padding="same")(x)

# Autoencoder
autoencoder = Model(input, x)
autoencoder.compile(optimizer="adam", loss="binary_crossentropy")
autoencoder.summary()

history = autoencoder.fit(
    x=train_dataset,
    y=train_dataset,
    epochs=1,
    batch_size=128,
    shuffle=True,
    validation_data=(test_dataset, test_dataset),
)

predictions = autoencoder.predict(test_dataset)

history_noisy = autoencoder.fit(
    x=noisy_train_dataset,
    y=train_dataset,
    epochs=1,
    batch_size=128,
    shuffle=True,
    validation_data=(noisy_test_dataset, test_dataset),
)

predictions = autoencoder.predict(noisy_test_dataset)

# --- checks ---
from tests.compat.harness import report

report(model=autoencoder, history=history, history_noisy=history_noisy, predictions=predictions)
