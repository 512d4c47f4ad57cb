"""A first look at a neural network: MNIST with two Dense layers

source: https://github.com/fchollet/deep-learning-with-python-notebooks/blob/master/first_edition/2.1-a-first-look-at-a-neural-network.ipynb
license: MIT
kind: declarative
changed: `import keras`/`from keras…` → cornu; MNIST comes from the fake Keras cache (512 train, 128 test), so the reshapes' hard-coded 60000/10000 became 512/128; epochs 5 → 2; cells that only display a value kept as statements; the final print kept; fit's return value assigned to `history` for the checks.
"""

import cornu as keras

keras.__version__

from cornu.datasets import mnist

(train_images, train_labels), (test_images, test_labels) = mnist.load_data()

train_images.shape
len(train_labels)
train_labels
test_images.shape
len(test_labels)
test_labels

from cornu import models
from cornu import layers

network = models.Sequential()
network.add(layers.Dense(512, activation="relu", input_shape=(28 * 28,)))
network.add(layers.Dense(10, activation="softmax"))

network.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])

train_images = train_images.reshape((512, 28 * 28))
train_images = train_images.astype("float32") / 255

test_images = test_images.reshape((128, 28 * 28))
test_images = test_images.astype("float32") / 255

from cornu.utils import to_categorical

train_labels = to_categorical(train_labels)
test_labels = to_categorical(test_labels)

history = network.fit(train_images, train_labels, epochs=2, batch_size=128)

test_loss, test_acc = network.evaluate(test_images, test_labels)
print("test_acc:", test_acc)

# --- checks ---
from tests.compat.harness import report

report(model=network, history=history, evaluation=[test_loss, test_acc])
