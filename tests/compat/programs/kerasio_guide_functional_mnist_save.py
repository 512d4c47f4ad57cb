"""The Functional API (guide): a first functional model on MNIST with from_logits loss,
validation_split, evaluate, then model.save and keras.models.load_model

source: https://github.com/keras-team/keras-io/blob/master/guides/functional_api.py (sections "Introduction", "Training, evaluation, and inference", "Save and serialize")
license: Apache-2.0
kind: declarative
changed: `from tensorflow import keras` / `from tensorflow.keras import layers` → cornu (`import tensorflow as tf` is unused there and left out); the two keras.utils.plot_model calls (pydot) left out; MNIST from the fake Keras cache (512 train, 128 test), so the reshapes' 60000/10000 became 512/128; epochs 2 → 1.
keras3: model.save("path_to_my_model") => model.save("path_to_my_model.keras")
keras3: keras.models.load_model("path_to_my_model") => keras.models.load_model("path_to_my_model.keras")
"""

import cornu as keras
from cornu import layers

inputs = keras.Input(shape=(784,))

# Just for demonstration purposes.
img_inputs = keras.Input(shape=(32, 32, 3))

inputs.shape
inputs.dtype

dense = layers.Dense(64, activation="relu")
x = dense(inputs)

x = layers.Dense(64, activation="relu")(x)
outputs = layers.Dense(10)(x)

model = keras.Model(inputs=inputs, outputs=outputs, name="mnist_model")

model.summary()

(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()

x_train = x_train.reshape(512, 784).astype("float32") / 255
x_test = x_test.reshape(128, 784).astype("float32") / 255

model.compile(
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    optimizer=keras.optimizers.RMSprop(),
    metrics=["accuracy"],
)

history = model.fit(x_train, y_train, batch_size=64, epochs=1, validation_split=0.2)

test_scores = model.evaluate(x_test, y_test, verbose=2)
print("Test loss:", test_scores[0])
print("Test accuracy:", test_scores[1])

model.save("path_to_my_model")
del model
# Recreate the exact same model purely from the file:
model = keras.models.load_model("path_to_my_model")

# --- checks ---
from tests.compat.harness import report

report(model=model, history=history, evaluation=test_scores, predictions=model.predict(x_test[:5]))
