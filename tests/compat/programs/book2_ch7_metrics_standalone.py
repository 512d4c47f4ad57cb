"""Working with Keras (2nd edition): metrics used on their own (update_state / result /
reset_state), outside fit

source: https://github.com/fchollet/deep-learning-with-python-notebooks/blob/master/second_edition/chapter07_working-with-keras.ipynb (section "Writing your own training and evaluation loops": "The metrics API")
license: MIT
kind: declarative
changed: `from tensorflow import keras` → `import cornu as keras`; the results are also reported (as text)  for the checks.
"""

import cornu as keras

metric = keras.metrics.SparseCategoricalAccuracy()
targets = [0, 1, 2]
predictions = [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
metric.update_state(targets, predictions)
current_result = metric.result()
print(f"result: {current_result:.2f}")

values = [0, 1, 2, 3, 4]
mean_tracker = keras.metrics.Mean()
for value in values:
    mean_tracker.update_state(value)
print(f"Mean of values: {mean_tracker.result():.2f}")

# --- checks ---
from tests.compat.harness import report

report(accuracy=f"{float(current_result):.4f}", mean=f"{float(mean_tracker.result()):.4f}")
