"""Keras 3 demo: a functional MLP with residual connections written as `x += residual`,
MeanSquaredError loss object, metric objects with names, validation_split,
evaluate(return_dict=True)

source: https://github.com/keras-team/keras/blob/master/examples/demo_functional.py
license: Apache-2.0
kind: declarative
changed: `from keras import …` / `import keras` → cornu; 50000 samples → 512; epochs 5 → 1; fit's and predict's results already named.
"""

import numpy as np

from cornu import Model
from cornu import layers
from cornu import losses
from cornu import metrics
from cornu import optimizers
import cornu as keras

keras.config.disable_traceback_filtering()

inputs = layers.Input((100,))
x = layers.Dense(512, activation="relu")(inputs)
residual = x
x = layers.Dense(512, activation="relu")(x)
x = layers.Dense(512, activation="relu")(x)
x += residual
x = layers.Dense(512, activation="relu")(x)
residual = x
x = layers.Dense(512, activation="relu")(x)
x = layers.Dense(512, activation="relu")(x)
x += residual
residual = x
x = layers.Dense(512, activation="relu")(x)
x = layers.Dense(512, activation="relu")(x)
x += residual
outputs = layers.Dense(16)(x)
model = Model(inputs, outputs)

model.summary()

x = np.random.random((512, 100))
y = np.random.random((512, 16))
batch_size = 32
epochs = 1

model.compile(
    optimizer=optimizers.Adam(learning_rate=0.001),
    loss=losses.MeanSquaredError(),
    metrics=[
        metrics.CategoricalAccuracy(name="acc"),
        metrics.MeanSquaredError(name="mse"),
    ],
)

print("\nTrain model")
history = model.fit(x, y, batch_size=batch_size, epochs=epochs, validation_split=0.2)
print("\nHistory:")
print(history.history)

print("\nEvaluate model")
scores = model.evaluate(x, y, return_dict=True)
print(scores)

print("\nRun inference")
pred = model.predict(x)
print(f"Inferred output shape {pred.shape}")

# --- checks ---
from tests.compat.harness import report

report(model=model, history=history, score=scores, predictions=pred)
