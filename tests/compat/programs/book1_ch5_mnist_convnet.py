"""Introduction to convnets: a small Conv2D/MaxPooling2D network on MNIST

source: https://github.com/fchollet/deep-learning-with-python-notebooks/blob/master/first_edition/5.1-introduction-to-convnets.ipynb
license: MIT
kind: declarative
changed: imports → cornu; MNIST from the fake Keras cache (512 train, 128 test), so the reshapes' 60000/10000 became 512/128; epochs 5 → 1; fit's return value kept for the checks.
"""

import cornu as keras

keras.__version__

from cornu import layers
from cornu import models

model = models.Sequential()
model.add(layers.Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)))
model.add(layers.MaxPooling2D((2, 2)))
model.add(layers.Conv2D(64, (3, 3), activation="relu"))
model.add(layers.MaxPooling2D((2, 2)))
model.add(layers.Conv2D(64, (3, 3), activation="relu"))

model.summary()

model.add(layers.Flatten())
model.add(layers.Dense(64, activation="relu"))
model.add(layers.Dense(10, activation="softmax"))

model.summary()

from cornu.datasets import mnist
from cornu.utils import to_categorical

(train_images, train_labels), (test_images, test_labels) = mnist.load_data()

train_images = train_images.reshape((512, 28, 28, 1))
train_images = train_images.astype("float32") / 255

test_images = test_images.reshape((128, 28, 28, 1))
test_images = test_images.astype("float32") / 255

train_labels = to_categorical(train_labels)
test_labels = to_categorical(test_labels)

model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
history = model.fit(train_images, train_labels, epochs=1, batch_size=64)

test_loss, test_acc = model.evaluate(test_images, test_labels)

test_acc

# --- checks ---
from tests.compat.harness import report

report(model=model, history=history, evaluation=[test_loss, test_acc])
