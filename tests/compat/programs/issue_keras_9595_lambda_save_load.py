"""Bug report: a model with a Lambda layer around a named Python function, saved to .h5
and loaded back

source: https://github.com/keras-team/keras/issues/9595
license: the reporter's snippet as posted on GitHub (keras-team/keras is Apache-2.0)
kind: user-code
changed: `from keras…` → `from cornu…`; the two scripts of the report (save, then load) run as one; a predict added for the checks. Keras 3 reloads a Lambda around a named function only when given the function and safe_mode=False, so the reference run passes both.
keras3: load_model("result.h5") => load_model("result.h5", custom_objects={"noop": noop}, safe_mode=False)
"""

from cornu.layers import Input, Lambda
from cornu.models import Model


def noop(x):
    return x


inp = Input(shape=(None, 1))
output = Lambda(noop)(inp)

model = Model(inputs=inp, outputs=output)
model.save("result.h5")

from cornu.models import load_model

load_model("result.h5")

# --- checks ---
import numpy as np

from tests.compat.harness import report

report(model=model, predictions=model.predict(np.zeros((2, 5, 1))))
