"""Bug report: what mask_zero=True does — an Embedding-only Sequential with input_length,
compiled with Adagrad(lr=0.01), predict on a Python list of lists

source: https://github.com/keras-team/keras/issues/2897
license: the reporter's snippet as posted on GitHub (keras-team/keras is Apache-2.0)
kind: declarative
changed: the snippet's implicit imports added (`from cornu.models import Sequential`, `from cornu.layers import Embedding`, `from cornu.optimizers import Adagrad`); its Python 2 `print out;` → `print(out)`; the statement-ending semicolons dropped by the formatter. Keras 3 reads a list of lists given to predict as several inputs, so the reference run passes `np.array(X)`.
keras3: optimizer=Adagrad(lr=0.01) => optimizer=Adagrad(learning_rate=0.01)
keras3: out = model.predict(X) => import numpy as np; out = model.predict(np.array(X))
"""

from cornu.models import Sequential
from cornu.layers import Embedding
from cornu.optimizers import Adagrad

X = [[0, 1], [1, 0], [0, 0]]
model = Sequential()
model.add(Embedding(4, 2, input_length=2, mask_zero=True))
model.compile(loss="mean_squared_error", optimizer=Adagrad(lr=0.01), metrics=["accuracy"])
out = model.predict(X)
print(out)

# --- checks ---
from tests.compat.harness import report

report(model=model, predictions=out)
