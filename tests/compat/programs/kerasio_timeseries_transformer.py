"""Timeseries classification with a Transformer model: MultiHeadAttention,
LayerNormalization and Conv1D blocks with residual `+`, EarlyStopping(restore_best_weights)

source: https://github.com/keras-team/keras-io/blob/master/examples/timeseries/timeseries_classification_transformer.py
license: Apache-2.0
kind: declarative
changed: `from tensorflow import keras` / `from tensorflow.keras import layers` → cornu; the FordA files are made at the top (tab-separated, label ±1 then the series: 128 train and 32 test series of 100 steps instead of 3601/1320 of 500) and read from "" instead of the GitHub URL; epochs 200 → 1; fit's and evaluate's return values kept for the checks.
"""

# --- data: FordA_TRAIN.tsv / FordA_TEST.tsv in the UCR format (label then values) ---
import numpy as np

_rng = np.random.default_rng(0)
for _name, _n in (("FordA_TRAIN.tsv", 128), ("FordA_TEST.tsv", 32)):
    _labels = _rng.choice([-1.0, 1.0], size=(_n, 1))
    np.savetxt(_name, np.hstack([_labels, _rng.normal(size=(_n, 100))]), delimiter="\t")
# --- end of data ---

import numpy as np


def readucr(filename):
    data = np.loadtxt(filename, delimiter="\t")
    y = data[:, 0]
    x = data[:, 1:]
    return x, y.astype(int)


root_url = ""

x_train, y_train = readucr(root_url + "FordA_TRAIN.tsv")
x_test, y_test = readucr(root_url + "FordA_TEST.tsv")

x_train = x_train.reshape((x_train.shape[0], x_train.shape[1], 1))
x_test = x_test.reshape((x_test.shape[0], x_test.shape[1], 1))

n_classes = len(np.unique(y_train))

idx = np.random.permutation(len(x_train))
x_train = x_train[idx]
y_train = y_train[idx]

y_train[y_train == -1] = 0
y_test[y_test == -1] = 0

import cornu as keras
from cornu import layers


def transformer_encoder(inputs, head_size, num_heads, ff_dim, dropout=0):
    # Attention and Normalization
    x = layers.MultiHeadAttention(key_dim=head_size, num_heads=num_heads, dropout=dropout)(
        inputs, inputs
    )
    x = layers.Dropout(dropout)(x)
    x = layers.LayerNormalization(epsilon=1e-6)(x)
    res = x + inputs

    # Feed Forward Part
    x = layers.Conv1D(filters=ff_dim, kernel_size=1, activation="relu")(res)
    x = layers.Dropout(dropout)(x)
    x = layers.Conv1D(filters=inputs.shape[-1], kernel_size=1)(x)
    x = layers.LayerNormalization(epsilon=1e-6)(x)
    return x + res


def build_model(
    input_shape,
    head_size,
    num_heads,
    ff_dim,
    num_transformer_blocks,
    mlp_units,
    dropout=0,
    mlp_dropout=0,
):
    inputs = keras.Input(shape=input_shape)
    x = inputs
    for _ in range(num_transformer_blocks):
        x = transformer_encoder(x, head_size, num_heads, ff_dim, dropout)

    x = layers.GlobalAveragePooling1D(data_format="channels_last")(x)
    for dim in mlp_units:
        x = layers.Dense(dim, activation="relu")(x)
        x = layers.Dropout(mlp_dropout)(x)
    outputs = layers.Dense(n_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs)


input_shape = x_train.shape[1:]

model = build_model(
    input_shape,
    head_size=256,
    num_heads=4,
    ff_dim=4,
    num_transformer_blocks=4,
    mlp_units=[128],
    mlp_dropout=0.4,
    dropout=0.25,
)

model.compile(
    loss="sparse_categorical_crossentropy",
    optimizer=keras.optimizers.Adam(learning_rate=1e-4),
    metrics=["sparse_categorical_accuracy"],
)
model.summary()

callbacks = [keras.callbacks.EarlyStopping(patience=10, restore_best_weights=True)]

history = model.fit(
    x_train,
    y_train,
    validation_split=0.2,
    epochs=1,
    batch_size=64,
    callbacks=callbacks,
)

score = model.evaluate(x_test, y_test, verbose=1)

# --- checks ---
from tests.compat.harness import report

report(model=model, history=history, score=score)
