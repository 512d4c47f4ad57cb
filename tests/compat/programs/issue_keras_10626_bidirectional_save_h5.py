"""Bug report: loading a saved Bidirectional LSTM (.h5) — input_shape given to the inner
LSTM, fit on random data, model.save('model.h5') and load_model

source: https://github.com/keras-team/keras/issues/10626
license: the reporter's snippet as posted on GitHub (keras-team/keras is Apache-2.0)
kind: declarative
changed: `from keras…` / `import keras` → cornu; fit's return value kept for the checks. The reference run draws the targets with rand instead of randn: Keras 3.15's torch backend refuses binary cross-entropy targets outside [0, 1].
keras3: np.random.randn(10, N_CLASSES) => np.random.rand(10, N_CLASSES)
"""

from cornu.models import Sequential, load_model
from cornu.layers import Bidirectional, Dropout, Dense, LSTM
import numpy as np
import cornu as keras

print(keras.__version__)

SEGMENT_TIME_SIZE = 10
N_FEATURES = 10
N_CLASSES = 10
N_HIDDEN_NEURONS = 10

model = Sequential()
model.add(
    Bidirectional(
        LSTM(
            N_HIDDEN_NEURONS,
            return_sequences=True,
            activation="tanh",
            input_shape=(SEGMENT_TIME_SIZE, N_FEATURES),
        )
    )
)
model.add(Bidirectional(LSTM(N_HIDDEN_NEURONS)))
model.add(Dropout(0.5))
model.add(Dense(N_CLASSES, activation="sigmoid"))
model.compile("adam", "binary_crossentropy", metrics=["accuracy"])

history = model.fit(
    np.random.rand(10, SEGMENT_TIME_SIZE, N_FEATURES), np.random.randn(10, N_CLASSES)
)


model.save("model.h5")
model = load_model("model.h5")

# --- checks ---
from tests.compat.harness import report

report(model=model, history=history)
