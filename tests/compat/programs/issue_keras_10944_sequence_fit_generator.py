"""Bug report: fit_generator with a keras.utils.Sequence for training and validation,
steps_per_epoch=5 and validation_steps=5, shuffle=False, workers=1, max_queue_size=1

source: https://github.com/keras-team/keras/issues/10944
license: the reporter's snippet as posted on GitHub (keras-team/keras is Apache-2.0)
kind: declarative
changed: `from keras…` → `from cornu…`; the Sequence's `print` of every generated batch kept; fit_generator's return value kept for the checks. Keras 3 removed fit_generator and fit's workers/max_queue_size (they moved to PyDataset's constructor), so the reference run calls fit without them.
keras3: m.fit_generator( => m.fit(
keras3: generator=Gen("training_data"), => Gen("training_data"),
keras3: workers=1, =>
keras3: max_queue_size=1, =>
"""

import numpy
from cornu import Input, Model
from cornu.layers import Dense
from cornu.utils import Sequence


class Gen(Sequence):
    def __init__(self, name):
        super().__init__()
        self.name = name

    def __len__(self):
        return 1000

    def __getitem__(self, index):
        print("Generate %s %d" % (self.name, index))
        return numpy.zeros(shape=(10, 10)), numpy.zeros(shape=(10, 2))


i = Input(shape=(10,))
o = Dense(units=2)(i)
m = Model(i, o)
m.compile("sgd", "mse")
history = m.fit_generator(
    generator=Gen("training_data"),
    shuffle=False,
    steps_per_epoch=5,
    validation_data=Gen("validation_data"),
    validation_steps=5,
    workers=1,
    max_queue_size=1,
    verbose=0,
)

# --- checks ---
from tests.compat.harness import report

report(model=m, history=history)
