"""Keras 3 API docs: LearningRateScheduler with a schedule function (reading
model.optimizer.learning_rate before and after), then CSVLogger writing each epoch's logs

source: https://github.com/keras-team/keras/blob/master/keras/src/callbacks/learning_rate_scheduler.py and https://github.com/keras-team/keras/blob/master/keras/src/callbacks/csv_logger.py (the docstring examples)
license: Apache-2.0
kind: declarative
changed: the doctest prompts removed; the names the docstrings assume imported (`import numpy as np`, `import cornu as keras`, `from cornu import ops`, `from cornu.callbacks import CSVLogger`); the CSVLogger example's X_train/Y_train are the scheduler example's arrays, fitted for 2 epochs; return values and the CSV's header kept for the checks. The targets `np.zeros(5)` → `np.zeros((5, 10))`: as written the docstring example fails in Keras 3.15 (mean squared error between (5,) targets and (5, 10) outputs); and the schedule's `lr * ops.exp(-0.1)` → `lr * float(ops.exp(-0.1))`: Keras 3.15 (torch) refuses the tensor the docstring's schedule returns ("should be a float"); the inputs `np.arange(100).reshape(5, 20)` are divided by 100: as given, SGD diverges to an infinite loss.
"""

import numpy as np
import cornu as keras
from cornu import ops
from cornu.callbacks import CSVLogger


# This function keeps the initial learning rate for the first ten epochs
# and decreases it exponentially after that.
def scheduler(epoch, lr):
    if epoch < 10:
        return lr
    else:
        return lr * float(ops.exp(-0.1))


model = keras.models.Sequential([keras.layers.Dense(10)])
model.compile(keras.optimizers.SGD(), loss="mse")
print(round(model.optimizer.learning_rate, 5))

callback = keras.callbacks.LearningRateScheduler(scheduler)
history = model.fit(
    np.arange(100).reshape(5, 20) / 100,
    np.zeros((5, 10)),
    epochs=15,
    callbacks=[callback],
    verbose=0,
)
print(round(model.optimizer.learning_rate, 5))

X_train, Y_train = np.arange(100).reshape(5, 20) / 100, np.zeros((5, 10))
csv_logger = CSVLogger("training.log")
history_csv = model.fit(X_train, Y_train, callbacks=[csv_logger], epochs=2)

# --- checks ---
from tests.compat.harness import report

report(
    model=model,
    history=history,
    history_csv=history_csv,
    final_learning_rate=f"{float(model.optimizer.learning_rate):.5f}",
    csv_header=open("training.log").readline().strip(),
    csv_rows=len(open("training.log").read().splitlines()),
)
