"""Bug report: messy progress-bar log when a custom Callback prints in on_epoch_end

source: https://github.com/keras-team/keras/issues/2354
license: the reporter's snippet as posted on GitHub (keras-team/keras is Apache-2.0)
kind: declarative
changed: `from keras…` → `from cornu…` (`keras.layers.core` kept as the report wrote it); its Python 2 `print "…"` → `print("…")`; fit's return value kept for the checks.
keras3: from keras.layers.core import Dense => from keras.layers import Dense
"""

from cornu.models import Sequential
from cornu.layers.core import Dense
from cornu.callbacks import Callback

import numpy as np


class TestCallback(Callback):
    def on_epoch_end(self, epoch, logs={}):
        print("\nImportant message with important stuff\n")


model = Sequential()
model.add(Dense(10, input_shape=(10,)))
model.compile(loss="mse", optimizer="sgd")

X = np.random.random(size=(300, 10))
Y = np.random.random(size=(300, 10))

history = model.fit(X, Y, callbacks=[TestCallback()])

# --- checks ---
from tests.compat.harness import report

report(model=model, history=history)
