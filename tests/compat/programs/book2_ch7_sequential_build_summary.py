"""Working with Keras (2nd edition): Sequential models built incrementally, with build(),
named models and layers, an Input first, and summary() at each stage

source: https://github.com/fchollet/deep-learning-with-python-notebooks/blob/master/second_edition/chapter07_working-with-keras.ipynb (section "The Sequential model")
license: MIT
kind: declarative
changed: `from tensorflow import keras` / `from tensorflow.keras import layers` → cornu; the models are kept under names for the checks (nothing is trained in this section).
"""

import cornu as keras
from cornu import layers

model = keras.Sequential(
    [layers.Dense(64, activation="relu"), layers.Dense(10, activation="softmax")]
)

model = keras.Sequential()
model.add(layers.Dense(64, activation="relu"))
model.add(layers.Dense(10, activation="softmax"))

model.build(input_shape=(None, 3))
model.weights

model.summary()
built_model = model

model = keras.Sequential(name="my_example_model")
model.add(layers.Dense(64, activation="relu", name="my_first_layer"))
model.add(layers.Dense(10, activation="softmax", name="my_last_layer"))
model.build((None, 3))
model.summary()
named_model = model

model = keras.Sequential()
model.add(keras.Input(shape=(3,)))
model.add(layers.Dense(64, activation="relu"))

model.summary()

model.add(layers.Dense(10, activation="softmax"))
model.summary()

# --- checks ---
from tests.compat.harness import report

report(
    model_built=built_model,
    model_named=named_model,
    model=model,
    weights=[w.shape for w in built_model.weights],
    names=[named_model.name] + [layer.name for layer in named_model.layers],
)
