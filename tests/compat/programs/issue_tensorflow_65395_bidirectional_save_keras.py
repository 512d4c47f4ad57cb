"""Bug report: a functional Bidirectional(LSTM, merge_mode='concat') saved as .keras and
loaded back

source: https://github.com/tensorflow/tensorflow/issues/65395
license: the reporter's snippet as posted on GitHub (tensorflow/tensorflow is Apache-2.0)
kind: declarative
changed: `from tensorflow.keras.… import …` → `from cornu.… import …`; the reloaded model kept in a name for the checks.
"""

from cornu.layers import Input, LSTM, Bidirectional
from cornu.models import Model, load_model

inputs = [Input(shape=(17, 4))]
layer = Bidirectional(LSTM(units=4), merge_mode="concat")(inputs[0])
outputs = [layer]
model = Model(inputs=inputs, outputs=outputs)

model.save("model.keras")
loaded = load_model("model.keras")

# --- checks ---
from tests.compat.harness import report

report(model=model, model_loaded=loaded)
