"""Jena climate forecasting (1st edition): recurrent dropout, stacked GRUs and a
bidirectional GRU, trained with fit_generator

source: https://github.com/fchollet/deep-learning-with-python-notebooks/blob/master/first_edition/6.3-advanced-usage-of-recurrent-neural-networks.ipynb (cells "Using recurrent dropout to fight overfitting", "Stacking recurrent layers", "Using bidirectional RNNs")
license: MIT
kind: declarative
changed: imports → cornu; the CSV is made at the top (10,000 rows of random values with the real header) and read from data_dir "." instead of "/home/ubuntu/data/"; the row indices that split it (200000 / 200001 / 300000 / 300001) → 4000 / 4001 / 7000 / 7001, in the normalisation, the generators and val_steps/test_steps; steps_per_epoch 500 → 1, epochs 40 → 1, validation_steps=val_steps → 1; the matplotlib cells left out; the (old) models kept under names for the checks.
keras3: .fit_generator( => .fit(
"""

# --- data: a CSV with jena_climate_2009_2016.csv's header and value types (10,000 rows
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
    for i, values in enumerate(_rng.normal(10.0, 5.0, size=(10000, 14)))
]
with open("jena_climate_2009_2016.csv", "w") as _f:
    _f.write("\n".join([_header, *_rows]))
# --- end of data ---

import os

data_dir = "."
fname = os.path.join(data_dir, "jena_climate_2009_2016.csv")

f = open(fname)
data = f.read()
f.close()

lines = data.split("\n")
header = lines[0].split(",")
lines = lines[1:]

print(header)
print(len(lines))

import numpy as np

float_data = np.zeros((len(lines), len(header) - 1))
for i, line in enumerate(lines):
    values = [float(x) for x in line.split(",")[1:]]
    float_data[i, :] = values

temp = float_data[:, 1]  # temperature (in degrees Celsius)

mean = float_data[:4000].mean(axis=0)
float_data -= mean
std = float_data[:4000].std(axis=0)
float_data /= std


def generator(data, lookback, delay, min_index, max_index, shuffle=False, batch_size=128, step=6):
    if max_index is None:
        max_index = len(data) - delay - 1
    i = min_index + lookback
    while 1:
        if shuffle:
            rows = np.random.randint(min_index + lookback, max_index, size=batch_size)
        else:
            if i + batch_size >= max_index:
                i = min_index + lookback
            rows = np.arange(i, min(i + batch_size, max_index))
            i += len(rows)

        samples = np.zeros((len(rows), lookback // step, data.shape[-1]))
        targets = np.zeros((len(rows),))
        for j, row in enumerate(rows):
            indices = range(rows[j] - lookback, rows[j], step)
            samples[j] = data[indices]
            targets[j] = data[rows[j] + delay][1]
        yield samples, targets


lookback = 1440
step = 6
delay = 144
batch_size = 128

train_gen = generator(
    float_data,
    lookback=lookback,
    delay=delay,
    min_index=0,
    max_index=4000,
    shuffle=True,
    step=step,
    batch_size=batch_size,
)
val_gen = generator(
    float_data,
    lookback=lookback,
    delay=delay,
    min_index=4001,
    max_index=7000,
    step=step,
    batch_size=batch_size,
)
test_gen = generator(
    float_data,
    lookback=lookback,
    delay=delay,
    min_index=7001,
    max_index=None,
    step=step,
    batch_size=batch_size,
)

# This is how many steps to draw from `val_gen`
# in order to see the whole validation set:
val_steps = (7000 - 4001 - lookback) // batch_size

# This is how many steps to draw from `test_gen`
# in order to see the whole test set:
test_steps = (len(float_data) - 7001 - lookback) // batch_size

from cornu.models import Sequential
from cornu import layers
from cornu.optimizers import RMSprop

model = Sequential()
model.add(
    layers.GRU(32, dropout=0.2, recurrent_dropout=0.2, input_shape=(None, float_data.shape[-1]))
)
model.add(layers.Dense(1))

model.compile(optimizer=RMSprop(), loss="mae")
history = model.fit_generator(
    train_gen, steps_per_epoch=1, epochs=1, validation_data=val_gen, validation_steps=1
)
dropout_model, dropout_history = model, history

from cornu.models import Sequential
from cornu import layers
from cornu.optimizers import RMSprop

model = Sequential()
model.add(
    layers.GRU(
        32,
        dropout=0.1,
        recurrent_dropout=0.5,
        return_sequences=True,
        input_shape=(None, float_data.shape[-1]),
    )
)
model.add(layers.GRU(64, activation="relu", dropout=0.1, recurrent_dropout=0.5))
model.add(layers.Dense(1))

model.compile(optimizer=RMSprop(), loss="mae")
history = model.fit_generator(
    train_gen, steps_per_epoch=1, epochs=1, validation_data=val_gen, validation_steps=1
)
stacked_model, stacked_history = model, history

from cornu.models import Sequential
from cornu import layers
from cornu.optimizers import RMSprop

model = Sequential()
model.add(layers.Bidirectional(layers.GRU(32), input_shape=(None, float_data.shape[-1])))
model.add(layers.Dense(1))

model.compile(optimizer=RMSprop(), loss="mae")
history = model.fit_generator(
    train_gen, steps_per_epoch=1, epochs=1, validation_data=val_gen, validation_steps=1
)

# --- checks ---
from tests.compat.harness import report

report(
    model_dropout=dropout_model,
    history_dropout=dropout_history,
    model_stacked=stacked_model,
    history_stacked=stacked_history,
    model_bidirectional=model,
    history_bidirectional=history,
)
