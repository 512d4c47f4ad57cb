"""Deep learning for timeseries (2nd edition): recurrent dropout, stacked GRUs and a
bidirectional LSTM on the Jena temperature series

source: https://github.com/fchollet/deep-learning-with-python-notebooks/blob/master/second_edition/chapter10_dl-for-timeseries.ipynb (section "Advanced use of recurrent neural networks")
license: MIT
kind: declarative
changed: `from tensorflow…` imports → cornu; the CSV is made at the top (6,400 rows of random values with the real header instead of 420,451 measurements; the `!wget`/`!unzip` cell left out); `keras.utils.timeseries_dataset_from_array` (Keras 3.15 needs TensorFlow for it) → `_timeseries_dataset_from_array`, a keras.utils.PyDataset defined in the data block that takes the same arguments and yields the same (256, 120, 14) float32 windows; the matplotlib and naive-baseline cells left out; epochs 50 → 1, 50 → 1 and 10 → 1; the cells that only build layers on keras.Input (SimpleRNN shapes, ) and the NumPy RNN cell left out; the models kept in names for the checks.
"""

# --- data: a CSV with jena_climate_2009_2016.csv's header and value types (6,400 rows
# of random values instead of 420,551 measurements) ---
import numpy as np

_rng = np.random.default_rng(0)
_header = (
    '"Date Time","p (mbar)","T (degC)","Tpot (K)","Tdew (degC)","rh (%)","VPmax (mbar)",'
    '"VPact (mbar)","VPdef (mbar)","sh (g/kg)","H2OC (mmol/mol)","rho (g/m**3)",'
    '"wv (m/s)","max. wv (m/s)","wd (deg)"'
)
_rows = [
    f"{1 + i // 144 % 28:02d}.01.2009 {i % 144 // 6:02d}:{i % 6 * 10:02d}:00,"
    + ",".join(f"{v:.2f}" for v in values)
    for i, values in enumerate(_rng.normal(10.0, 5.0, size=(6400, 14)))
]
with open("jena_climate_2009_2016.csv", "w") as _f:
    _f.write("\n".join([_header, *_rows]))

import cornu as keras


class _timeseries_dataset_from_array(keras.utils.PyDataset):
    """Stands in for keras.utils.timeseries_dataset_from_array (which needs TensorFlow in
    Keras 3): the same windows and batches, as a keras.utils.PyDataset."""

    def __init__(
        self,
        data,
        targets,
        sequence_length,
        sampling_rate=1,
        batch_size=128,
        shuffle=False,
        start_index=None,
        end_index=None,
    ):
        super().__init__()
        start = start_index or 0
        end = len(data) if end_index is None else min(end_index, len(data))
        span = (sequence_length - 1) * sampling_rate + 1
        self.starts = np.arange(start, max(start, end - span + 1))
        if shuffle:
            np.random.default_rng(0).shuffle(self.starts)
        self.data, self.targets = data, targets
        self.offsets = np.arange(0, span, sampling_rate)
        self.batch_size = batch_size

    def __len__(self):
        return int(np.ceil(len(self.starts) / self.batch_size))

    def __getitem__(self, index):
        starts = self.starts[index * self.batch_size : (index + 1) * self.batch_size]
        x = self.data[starts[:, None] + self.offsets[None, :]].astype("float32")
        return x, self.targets[starts].astype("float32")


# --- end of data ---

import os

fname = os.path.join("jena_climate_2009_2016.csv")

with open(fname) as f:
    data = f.read()

lines = data.split("\n")
header = lines[0].split(",")
lines = lines[1:]
print(header)
print(len(lines))

import numpy as np

temperature = np.zeros((len(lines),))
raw_data = np.zeros((len(lines), len(header) - 1))
for i, line in enumerate(lines):
    values = [float(x) for x in line.split(",")[1:]]
    temperature[i] = values[1]
    raw_data[i, :] = values[:]

num_train_samples = int(0.5 * len(raw_data))
num_val_samples = int(0.25 * len(raw_data))
num_test_samples = len(raw_data) - num_train_samples - num_val_samples
print("num_train_samples:", num_train_samples)
print("num_val_samples:", num_val_samples)
print("num_test_samples:", num_test_samples)

mean = raw_data[:num_train_samples].mean(axis=0)
raw_data -= mean
std = raw_data[:num_train_samples].std(axis=0)
raw_data /= std

sampling_rate = 6
sequence_length = 120
delay = sampling_rate * (sequence_length + 24 - 1)
batch_size = 256

train_dataset = _timeseries_dataset_from_array(
    raw_data[:-delay],
    targets=temperature[delay:],
    sampling_rate=sampling_rate,
    sequence_length=sequence_length,
    shuffle=True,
    batch_size=batch_size,
    start_index=0,
    end_index=num_train_samples,
)

val_dataset = _timeseries_dataset_from_array(
    raw_data[:-delay],
    targets=temperature[delay:],
    sampling_rate=sampling_rate,
    sequence_length=sequence_length,
    shuffle=True,
    batch_size=batch_size,
    start_index=num_train_samples,
    end_index=num_train_samples + num_val_samples,
)

test_dataset = _timeseries_dataset_from_array(
    raw_data[:-delay],
    targets=temperature[delay:],
    sampling_rate=sampling_rate,
    sequence_length=sequence_length,
    shuffle=True,
    batch_size=batch_size,
    start_index=num_train_samples + num_val_samples,
)

for samples, targets in train_dataset:
    print("samples shape:", samples.shape)
    print("targets shape:", targets.shape)
    break

import cornu as keras
from cornu import layers

inputs = keras.Input(shape=(sequence_length, raw_data.shape[-1]))
x = layers.LSTM(32, recurrent_dropout=0.25)(inputs)
x = layers.Dropout(0.5)(x)
outputs = layers.Dense(1)(x)
model = keras.Model(inputs, outputs)

callbacks = [keras.callbacks.ModelCheckpoint("jena_lstm_dropout.keras", save_best_only=True)]
model.compile(optimizer="rmsprop", loss="mse", metrics=["mae"])
history = model.fit(train_dataset, epochs=1, validation_data=val_dataset, callbacks=callbacks)
lstm_model, lstm_history = model, history

inputs = keras.Input(shape=(sequence_length, raw_data.shape[-1]))
x = layers.GRU(32, recurrent_dropout=0.5, return_sequences=True)(inputs)
x = layers.GRU(32, recurrent_dropout=0.5)(x)
x = layers.Dropout(0.5)(x)
outputs = layers.Dense(1)(x)
model = keras.Model(inputs, outputs)

callbacks = [keras.callbacks.ModelCheckpoint("jena_stacked_gru_dropout.keras", save_best_only=True)]
model.compile(optimizer="rmsprop", loss="mse", metrics=["mae"])
history = model.fit(train_dataset, epochs=1, validation_data=val_dataset, callbacks=callbacks)
model = keras.models.load_model("jena_stacked_gru_dropout.keras")
print(f"Test MAE: {model.evaluate(test_dataset)[1]:.2f}")
gru_model, gru_history = model, history

inputs = keras.Input(shape=(sequence_length, raw_data.shape[-1]))
x = layers.Bidirectional(layers.LSTM(16))(inputs)
outputs = layers.Dense(1)(x)
model = keras.Model(inputs, outputs)

model.compile(optimizer="rmsprop", loss="mse", metrics=["mae"])
history = model.fit(train_dataset, epochs=1, validation_data=val_dataset)

# --- checks ---
from tests.compat.harness import report

report(
    model_lstm=lstm_model,
    history_lstm=lstm_history,
    model_gru=gru_model,
    history_gru=gru_history,
    model_bidirectional=model,
    history_bidirectional=history,
)
