"""Imbalanced classification (credit card fraud): class_weight, confusion-count metrics,
Precision/Recall, ModelCheckpoint with an {epoch} file name, verbose=2

source: https://github.com/keras-team/keras-io/blob/master/examples/structured_data/imbalanced_classification.py
license: Apache-2.0
kind: declarative
changed: `import keras` → `import cornu as keras`; creditcard.csv is made at the top (2,000 rows with the real header: Time, V1–V28, Amount, "Class" with about 2% ones, instead of 284,807) and read from the current directory instead of "/Users/…/Downloads/creditcard.csv"; epochs 30 → 2; fit's return value kept for the checks.
"""

# --- data: a creditcard.csv with the real header and value types (2,000 rows) ---
import numpy as np

_rng = np.random.default_rng(0)
_header = ",".join(
    f'"{c}"' for c in ["Time"] + [f"V{i}" for i in range(1, 29)] + ["Amount", "Class"]
)
with open("creditcard.csv", "w") as _f:
    _f.write(_header + "\n")
    for _i, _row in enumerate(_rng.normal(size=(2000, 29))):
        _fraud = int(_rng.random() < 0.02 or _i == 5)
        _f.write(f'{_i},{",".join(f"{v:.6f}" for v in _row)},"{_fraud}"\n')
# --- end of data ---

import numpy as np

# Get the real data from https://www.kaggle.com/mlg-ulb/creditcardfraud/
fname = "creditcard.csv"

all_features = []
all_targets = []
with open(fname) as f:
    for i, line in enumerate(f):
        if i == 0:
            print("HEADER:", line.strip())
            continue  # Skip header
        fields = line.strip().split(",")
        all_features.append([float(v.replace('"', "")) for v in fields[:-1]])
        all_targets.append([int(fields[-1].replace('"', ""))])
        if i == 1:
            print("EXAMPLE FEATURES:", all_features[-1])

features = np.array(all_features, dtype="float32")
targets = np.array(all_targets, dtype="uint8")
print("features.shape:", features.shape)
print("targets.shape:", targets.shape)

num_val_samples = int(len(features) * 0.2)
train_features = features[:-num_val_samples]
train_targets = targets[:-num_val_samples]
val_features = features[-num_val_samples:]
val_targets = targets[-num_val_samples:]

print("Number of training samples:", len(train_features))
print("Number of validation samples:", len(val_features))

counts = np.bincount(train_targets[:, 0])
print(
    "Number of positive samples in training data: {} ({:.2f}% of total)".format(
        counts[1], 100 * float(counts[1]) / len(train_targets)
    )
)

weight_for_0 = 1.0 / counts[0]
weight_for_1 = 1.0 / counts[1]

mean = np.mean(train_features, axis=0)
train_features -= mean
val_features -= mean
std = np.std(train_features, axis=0)
train_features /= std
val_features /= std

import cornu as keras

model = keras.Sequential(
    [
        keras.Input(shape=train_features.shape[1:]),
        keras.layers.Dense(256, activation="relu"),
        keras.layers.Dense(256, activation="relu"),
        keras.layers.Dropout(0.3),
        keras.layers.Dense(256, activation="relu"),
        keras.layers.Dropout(0.3),
        keras.layers.Dense(1, activation="sigmoid"),
    ]
)
model.summary()

metrics = [
    keras.metrics.FalseNegatives(name="fn"),
    keras.metrics.FalsePositives(name="fp"),
    keras.metrics.TrueNegatives(name="tn"),
    keras.metrics.TruePositives(name="tp"),
    keras.metrics.Precision(name="precision"),
    keras.metrics.Recall(name="recall"),
]

model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="binary_crossentropy", metrics=metrics)

callbacks = [keras.callbacks.ModelCheckpoint("fraud_model_at_epoch_{epoch}.keras")]
class_weight = {0: weight_for_0, 1: weight_for_1}

history = model.fit(
    train_features,
    train_targets,
    batch_size=2048,
    epochs=2,
    verbose=2,
    callbacks=callbacks,
    validation_data=(val_features, val_targets),
    class_weight=class_weight,
)

# --- checks ---
import os

from tests.compat.harness import report

report(
    model=model,
    history=history,
    checkpoints=sorted(f for f in os.listdir(".") if f.startswith("fraud_model")),
)
