"""Bug report: Embedding(mask_zero=True) + LSTM in an encoder model that is called inside
a second model with an int32 Input

source: https://github.com/keras-team/keras/issues/6206
license: the reporter's snippet as posted on GitHub (keras-team/keras is Apache-2.0)
kind: declarative
changed: the snippet's implicit imports added (`import numpy as np`, `from cornu.layers import Input, Embedding, LSTM, Dense`, `from cornu.models import Model`); fit's return value kept for the checks.
"""

import numpy as np
from cornu.layers import Input, Embedding, LSTM, Dense
from cornu.models import Model

X = np.round(np.random.rand(10, 10) * 10).astype(np.int32)
y = np.round(np.random.rand(10)).astype(np.int32)

i = Input(shape=(10,), name="sentence_input", dtype="int32")
x = Embedding(12, 10, mask_zero=True)(i)
o = LSTM(10)(x)
enc_model = Model(i, o)

i2 = Input(shape=(10,), dtype="int32")
x2 = enc_model(i2)
o2 = Dense(1, activation="sigmoid")(x2)

model = Model(i2, o2)
model.compile(optimizer="rmsprop", loss="binary_crossentropy")
history = model.fit(X, y, epochs=1)

# --- checks ---
from tests.compat.harness import report

report(model=model, model_encoder=enc_model, history=history, predictions=model.predict(X))
