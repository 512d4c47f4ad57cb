"""Bug report: Embedding + Bidirectional(LSTM(350)) sentiment model, fit with nb_epoch and
validation_data given as a list, evaluate with batch_size

source: https://github.com/keras-team/keras/issues/3806
license: the reporter's snippet as posted on GitHub (keras-team/keras is Apache-2.0)
kind: declarative
changed: the snippet's implicit imports and data added: `from cornu.models import Sequential`, `from cornu.layers import Embedding, Bidirectional, LSTM, Dropout, Dense`, and a data block with arrays of the shapes the report implies (128 train / 32 test padded sequences of maxlen 40 < max_features 20000, binary labels, batch_size 32); nb_epoch 10 → 1; fit's return value kept for the checks.
keras3: nb_epoch=1 => epochs=1
keras3: validation_data=[X_test, y_test] => validation_data=(X_test, y_test)
"""

# --- data: padded word-id sequences and binary labels, as the report's X_train/X_test ---
import numpy as np

_rng = np.random.default_rng(0)
max_features, maxlen, batch_size = 20000, 40, 32
X_train = _rng.integers(0, max_features, size=(128, maxlen))
y_train = _rng.integers(0, 2, size=128)
X_test = _rng.integers(0, max_features, size=(32, maxlen))
y_test = _rng.integers(0, 2, size=32)
# --- end of data ---

from cornu.models import Sequential
from cornu.layers import Embedding, Bidirectional, LSTM, Dropout, Dense

model = Sequential()
model.add(Embedding(max_features, 350, input_length=maxlen))
model.add(Bidirectional(LSTM(350)))
model.add(Dropout(0.5))
model.add(Dense(1, activation="sigmoid"))

model.compile("adam", "binary_crossentropy", metrics=["accuracy"])

print("Train...")
history = model.fit(
    X_train, y_train, batch_size=batch_size, nb_epoch=1, validation_data=[X_test, y_test]
)

score, acc = model.evaluate(X_test, y_test, batch_size=batch_size)

# --- checks ---
from tests.compat.harness import report

report(model=model, history=history, evaluation=[score, acc])
