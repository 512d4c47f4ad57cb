"""Serialization and saving (guide): whole-model save/load (SavedModel-style path and .h5),
resuming fit on the reloaded model, get_config/from_config, to_json/model_from_json,
get_weights/set_weights between layers and models, save_weights/load_weights (.h5),
extracting layers into a new Sequential

source: https://github.com/keras-team/keras-io/blob/master/guides/serialization_and_saving.py
license: Apache-2.0
kind: declarative
changed: `from tensorflow import keras` → `import cornu as keras` (`import tensorflow as tf` left out with every section that uses it: custom layers written with tf, tf.saved_model, tf.train.Checkpoint, the subclassed-model transfer); the kept sections run in the guide's order; the checks read the models at the end. In Keras 3.15 (torch) a compiled model reloaded from .h5 cannot resume fit (its optimizer raises 'Unknown variable'), so the reference run compiles it again first; Cornu should resume as the guide says.
keras3: history_h5 = reconstructed_model.fit( => reconstructed_model.compile(optimizer="adam", loss="mean_squared_error"); history_h5 = reconstructed_model.fit(
keras3: model.save("my_model") => model.save("my_model.keras")
keras3: keras.models.load_model("my_model") => keras.models.load_model("my_model.keras")
keras3: sequential_model.save_weights("weights.h5") => sequential_model.save_weights("weights.weights.h5")
keras3: sequential_model.load_weights("weights.h5") => sequential_model.load_weights("weights.weights.h5")
keras3: functional_model.save_weights("pretrained_weights.h5") => functional_model.save_weights("pretrained_weights.weights.h5")
keras3: pretrained_model.load_weights("pretrained_weights.h5") => pretrained_model.load_weights("pretrained_weights.weights.h5")
"""

import numpy as np
import cornu as keras


def get_model():
    # Create a simple model.
    inputs = keras.Input(shape=(32,))
    outputs = keras.layers.Dense(1)(inputs)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="mean_squared_error")
    return model


model = get_model()

# Train the model.
test_input = np.random.random((128, 32))
test_target = np.random.random((128, 1))
model.fit(test_input, test_target)

# Calling `save('my_model')` creates a SavedModel folder `my_model`.
model.save("my_model")

# It can be used to reconstruct the model identically.
reconstructed_model = keras.models.load_model("my_model")

# Let's check:
np.testing.assert_allclose(model.predict(test_input), reconstructed_model.predict(test_input))

# The reconstructed model is already compiled and has retained the optimizer
# state, so training can resume:
history_resumed = reconstructed_model.fit(test_input, test_target)

model = get_model()

# Train the model.
test_input = np.random.random((128, 32))
test_target = np.random.random((128, 1))
model.fit(test_input, test_target)

# Calling `save('my_model.h5')` creates a h5 file `my_model.h5`.
model.save("my_h5_model.h5")

# It can be used to reconstruct the model identically.
reconstructed_model = keras.models.load_model("my_h5_model.h5")

# Let's check:
np.testing.assert_allclose(model.predict(test_input), reconstructed_model.predict(test_input))

# The reconstructed model is already compiled and has retained the optimizer
# state, so training can resume:
history_h5 = reconstructed_model.fit(test_input, test_target)

layer = keras.layers.Dense(3, activation="relu")
layer_config = layer.get_config()
new_layer = keras.layers.Dense.from_config(layer_config)

model = keras.Sequential([keras.Input((32,)), keras.layers.Dense(1)])
config = model.get_config()
new_model = keras.Sequential.from_config(config)

inputs = keras.Input((32,))
outputs = keras.layers.Dense(1)(inputs)
model = keras.Model(inputs, outputs)
config = model.get_config()
new_model = keras.Model.from_config(config)

model = keras.Sequential([keras.Input((32,)), keras.layers.Dense(1)])
json_config = model.to_json()
new_model = keras.models.model_from_json(json_config)
json_model = new_model


def create_layer():
    layer = keras.layers.Dense(64, activation="relu", name="dense_2")
    layer.build((None, 784))
    return layer


layer_1 = create_layer()
layer_2 = create_layer()

# Copy weights from layer 2 to layer 1
layer_2.set_weights(layer_1.get_weights())

inputs = keras.Input(shape=(784,), name="digits")
x = keras.layers.Dense(64, activation="relu", name="dense_1")(inputs)
x = keras.layers.Dense(64, activation="relu", name="dense_2")(x)
outputs = keras.layers.Dense(10, name="predictions")(x)
functional_model = keras.Model(inputs=inputs, outputs=outputs, name="3_layer_mlp")

inputs = keras.Input(shape=(784,), name="digits")
x = keras.layers.Dense(64, activation="relu", name="dense_1")(inputs)
x = keras.layers.Dense(64, activation="relu", name="dense_2")(x)

# Add a dropout layer, which does not contain any weights.
x = keras.layers.Dropout(0.5)(x)
outputs = keras.layers.Dense(10, name="predictions")(x)
functional_model_with_dropout = keras.Model(inputs=inputs, outputs=outputs, name="3_layer_mlp")

functional_model_with_dropout.set_weights(functional_model.get_weights())

# Runnable example
sequential_model = keras.Sequential(
    [
        keras.Input(shape=(784,), name="digits"),
        keras.layers.Dense(64, activation="relu", name="dense_1"),
        keras.layers.Dense(64, activation="relu", name="dense_2"),
        keras.layers.Dense(10, name="predictions"),
    ]
)
sequential_model.save_weights("weights.h5")
sequential_model.load_weights("weights.h5")


def create_functional_model():
    inputs = keras.Input(shape=(784,), name="digits")
    x = keras.layers.Dense(64, activation="relu", name="dense_1")(inputs)
    x = keras.layers.Dense(64, activation="relu", name="dense_2")(x)
    outputs = keras.layers.Dense(10, name="predictions")(x)
    return keras.Model(inputs=inputs, outputs=outputs, name="3_layer_mlp")


functional_model = create_functional_model()
functional_model.save_weights("pretrained_weights.h5")

# In a separate program:
pretrained_model = create_functional_model()
pretrained_model.load_weights("pretrained_weights.h5")

# Create a new model by extracting layers from the original model:
extracted_layers = pretrained_model.layers[:-1]
extracted_layers.append(keras.layers.Dense(5, name="dense_3"))
model = keras.Sequential(extracted_layers)
model.summary()

# --- checks ---
from tests.compat.harness import report

report(
    model=model,
    model_json=json_model,
    model_dropout=functional_model_with_dropout,
    history_resumed=history_resumed,
    history_h5=history_h5,
    layer_config_units=layer_config["units"],
    weights_equal=bool(
        all(
            np.array_equal(a, b)
            for a, b in zip(pretrained_model.get_weights(), functional_model.get_weights())
        )
    ),
)
