"""Bug report: GRU(return_sequences=True) output shape after an Embedding, a Dense on each
step, summary()

source: https://github.com/keras-team/keras/issues/8877 (the snippet in the answer of 2017-12-31)
license: the snippet as posted on GitHub (keras-team/keras is Apache-2.0)
kind: declarative
changed: the imports the snippet leaves implicit added as `from cornu.layers import Input, Embedding, GRU, Dense` and `from cornu.models import Model`; a predict on 4 random sequences added for the checks.
"""

from cornu.layers import Input, Embedding, GRU, Dense
from cornu.models import Model

seq = Input(shape=[60], name="seq_var")
y = Embedding(1000, 10)(seq)
y = GRU(8, return_sequences=True)(y)
out = Dense(1, activation="tanh")(y)
model = Model(seq, out)

model.summary()

# --- checks ---
import numpy as np

from tests.compat.harness import report

report(model=model, predictions=model.predict(np.random.randint(0, 1000, size=(4, 60))))
