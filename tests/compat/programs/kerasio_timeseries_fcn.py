"""Timeseries classification from scratch: a fully convolutional Conv1D /
BatchNormalization / ReLU network with ModelCheckpoint(.h5), ReduceLROnPlateau and
EarlyStopping, reloaded with load_model

source: https://github.com/keras-team/keras-io/blob/master/examples/timeseries/timeseries_classification_from_scratch.py
license: Apache-2.0
kind: declarative
changed: `from tensorflow import keras` → `import cornu as keras`; the unused `import tensorflow as tf`, matplotlib and its plotting blocks and the keras.utils.plot_model call (pydot) left out; the FordA files are made at the top (128 train and 32 test series of 500 steps instead of 3601/1320) and read from "" instead of the GitHub URL; epochs 500 → 2; the checks read the History.
"""

# --- data: FordA_TRAIN.tsv / FordA_TEST.tsv in the UCR format (label then values) ---
import numpy as np

_rng = np.random.default_rng(0)
for _name, _n in (("FordA_TRAIN.tsv", 128), ("FordA_TEST.tsv", 32)):
    _labels = _rng.choice([-1.0, 1.0], size=(_n, 1))
    np.savetxt(_name, np.hstack([_labels, _rng.normal(size=(_n, 500))]), delimiter="\t")
# --- end of data ---

import cornu as keras
import numpy as np
from sklearn.metrics import accuracy_score


def readucr(filename):
    data = np.loadtxt(filename, delimiter="\t")
    y = data[:, 0]
    x = data[:, 1:]
    return x, y.astype(int)


root_url = ""

x_train, y_train = readucr(root_url + "FordA_TRAIN.tsv")
x_test, y_test = readucr(root_url + "FordA_TEST.tsv")

classes = np.unique(np.concatenate((y_train, y_test), axis=0))

x_train = x_train.reshape((x_train.shape[0], x_train.shape[1], 1))
x_test = x_test.reshape((x_test.shape[0], x_test.shape[1], 1))

num_classes = len(np.unique(y_train))

idx = np.random.permutation(len(x_train))
x_train = x_train[idx]
y_train = y_train[idx]

y_train[y_train == -1] = 0
y_test[y_test == -1] = 0


def make_model(input_shape):
    input_layer = keras.layers.Input(input_shape)

    conv1 = keras.layers.Conv1D(filters=64, kernel_size=3, padding="same")(input_layer)
    conv1 = keras.layers.BatchNormalization()(conv1)
    conv1 = keras.layers.ReLU()(conv1)

    conv2 = keras.layers.Conv1D(filters=64, kernel_size=3, padding="same")(conv1)
    conv2 = keras.layers.BatchNormalization()(conv2)
    conv2 = keras.layers.ReLU()(conv2)

    conv3 = keras.layers.Conv1D(filters=64, kernel_size=3, padding="same")(conv2)
    conv3 = keras.layers.BatchNormalization()(conv3)
    conv3 = keras.layers.ReLU()(conv3)

    gap = keras.layers.GlobalAveragePooling1D()(conv3)

    output_layer = keras.layers.Dense(num_classes, activation="softmax")(gap)

    return keras.models.Model(inputs=input_layer, outputs=output_layer)


model = make_model(input_shape=x_train.shape[1:])

epochs = 2
batch_size = 32

callbacks = [
    keras.callbacks.ModelCheckpoint("best_model.h5", save_best_only=True, monitor="val_loss"),
    keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=20, min_lr=0.0001),
    keras.callbacks.EarlyStopping(monitor="val_loss", patience=50, verbose=1),
]
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
history = model.fit(
    x_train,
    y_train,
    batch_size=batch_size,
    epochs=epochs,
    callbacks=callbacks,
    validation_split=0.2,
    verbose=1,
)

model = keras.models.load_model("best_model.h5")

y_pred = model.predict(x_test).argmax(axis=1)

print("Test accuracy", accuracy_score(y_pred, y_test))

# --- checks ---
from tests.compat.harness import report

report(model=model, history=history, predictions=y_pred)
