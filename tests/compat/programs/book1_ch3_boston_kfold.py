"""Predicting house prices: Boston housing regression with K-fold validation

source: https://github.com/fchollet/deep-learning-with-python-notebooks/blob/master/first_edition/3.7-predicting-house-prices.ipynb
license: MIT
kind: declarative
changed: imports → cornu; Boston housing from the fake Keras cache (512 train, 128 test); num_epochs 100 → 2 with batch_size 1 → 16 in the K-fold loop, final fit epochs 80 → 2; the 500-epoch K-fold cell (it reads Keras 2's history key 'val_mean_absolute_error') and the matplotlib cells left out; fit's return value kept for the checks.
"""

import cornu as keras

keras.__version__

from cornu.datasets import boston_housing

(train_data, train_targets), (test_data, test_targets) = boston_housing.load_data()

train_data.shape
test_data.shape
train_targets

mean = train_data.mean(axis=0)
train_data -= mean
std = train_data.std(axis=0)
train_data /= std

test_data -= mean
test_data /= std

from cornu import models
from cornu import layers


def build_model():
    # Because we will need to instantiate
    # the same model multiple times,
    # we use a function to construct it.
    model = models.Sequential()
    model.add(layers.Dense(64, activation="relu", input_shape=(train_data.shape[1],)))
    model.add(layers.Dense(64, activation="relu"))
    model.add(layers.Dense(1))
    model.compile(optimizer="rmsprop", loss="mse", metrics=["mae"])
    return model


import numpy as np

k = 4
num_val_samples = len(train_data) // k
num_epochs = 2
all_scores = []
for i in range(k):
    print("processing fold #", i)
    # Prepare the validation data: data from partition # k
    val_data = train_data[i * num_val_samples : (i + 1) * num_val_samples]
    val_targets = train_targets[i * num_val_samples : (i + 1) * num_val_samples]

    # Prepare the training data: data from all other partitions
    partial_train_data = np.concatenate(
        [train_data[: i * num_val_samples], train_data[(i + 1) * num_val_samples :]], axis=0
    )
    partial_train_targets = np.concatenate(
        [train_targets[: i * num_val_samples], train_targets[(i + 1) * num_val_samples :]],
        axis=0,
    )

    # Build the Keras model (already compiled)
    model = build_model()
    # Train the model (in silent mode, verbose=0)
    model.fit(
        partial_train_data, partial_train_targets, epochs=num_epochs, batch_size=16, verbose=0
    )
    # Evaluate the model on the validation data
    val_mse, val_mae = model.evaluate(val_data, val_targets, verbose=0)
    all_scores.append(val_mae)

all_scores
np.mean(all_scores)

from cornu import backend as K

# Some memory clean-up
K.clear_session()

# Get a fresh, compiled model.
model = build_model()
# Train it on the entirety of the data.
history = model.fit(train_data, train_targets, epochs=2, batch_size=16, verbose=0)
test_mse_score, test_mae_score = model.evaluate(test_data, test_targets)

test_mae_score

# --- checks ---
from tests.compat.harness import report

report(
    model=model,
    history=history,
    evaluation=[test_mse_score, test_mae_score],
    folds=len(all_scores),
)
