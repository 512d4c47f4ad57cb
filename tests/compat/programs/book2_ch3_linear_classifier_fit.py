"""Getting started with Keras (2nd edition): a one-unit linear classifier compiled with
strings, then with loss/metric/optimizer objects, validated on a shuffled split

source: https://github.com/fchollet/deep-learning-with-python-notebooks/blob/master/second_edition/chapter03_introduction-to-keras-and-tf.ipynb (cells "Generating two classes of random points in a 2D plane" and "Understanding the fit() method" … "Using a trained model to make predictions")
license: MIT
kind: declarative
changed: `from tensorflow import keras` → `import cornu as keras`; the data is the notebook's own (random points); epochs 5 → 2 for both fits; the matplotlib cell left out; the second fit's History kept for the checks.
"""

import numpy as np
import cornu as keras

num_samples_per_class = 1000
negative_samples = np.random.multivariate_normal(
    mean=[0, 3], cov=[[1, 0.5], [0.5, 1]], size=num_samples_per_class
)
positive_samples = np.random.multivariate_normal(
    mean=[3, 0], cov=[[1, 0.5], [0.5, 1]], size=num_samples_per_class
)
inputs = np.vstack((negative_samples, positive_samples)).astype(np.float32)
targets = np.vstack(
    (
        np.zeros((num_samples_per_class, 1), dtype="float32"),
        np.ones((num_samples_per_class, 1), dtype="float32"),
    )
)

model = keras.Sequential([keras.layers.Dense(1)])
model.compile(optimizer="rmsprop", loss="mean_squared_error", metrics=["accuracy"])

model.compile(
    optimizer=keras.optimizers.RMSprop(),
    loss=keras.losses.MeanSquaredError(),
    metrics=[keras.metrics.BinaryAccuracy()],
)

history = model.fit(inputs, targets, epochs=2, batch_size=128)
history.history

model = keras.Sequential([keras.layers.Dense(1)])
model.compile(
    optimizer=keras.optimizers.RMSprop(learning_rate=0.1),
    loss=keras.losses.MeanSquaredError(),
    metrics=[keras.metrics.BinaryAccuracy()],
)

indices_permutation = np.random.permutation(len(inputs))
shuffled_inputs = inputs[indices_permutation]
shuffled_targets = targets[indices_permutation]

num_validation_samples = int(0.3 * len(inputs))
val_inputs = shuffled_inputs[:num_validation_samples]
val_targets = shuffled_targets[:num_validation_samples]
training_inputs = shuffled_inputs[num_validation_samples:]
training_targets = shuffled_targets[num_validation_samples:]
history_2 = model.fit(
    training_inputs,
    training_targets,
    epochs=2,
    batch_size=16,
    validation_data=(val_inputs, val_targets),
)

predictions = model.predict(val_inputs, batch_size=128)
print(predictions[:10])

# --- checks ---
from tests.compat.harness import report

report(model=model, history=history, history_2=history_2, predictions=predictions)
