"""Keras 3 demo: a subclassed keras.Model with its own call()

source: https://github.com/keras-team/keras/blob/master/examples/demo_subclass.py
license: Apache-2.0
kind: user-code
changed: `from keras import …` → cornu; 50000 samples → 512; epochs 6 → 1.
"""

import numpy as np

from cornu import Model
from cornu import layers
from cornu import losses
from cornu import metrics
from cornu import optimizers


class MyModel(Model):
    def __init__(self, hidden_dim, output_dim):
        super().__init__()
        self.dense1 = layers.Dense(hidden_dim, activation="relu")
        self.dense2 = layers.Dense(hidden_dim, activation="relu")
        self.dense3 = layers.Dense(output_dim)

    def call(self, x):
        x = self.dense1(x)
        x = self.dense2(x)
        return self.dense3(x)


model = MyModel(hidden_dim=256, output_dim=16)

x = np.random.random((512, 128))
y = np.random.random((512, 16))
batch_size = 32
epochs = 1

model.compile(
    optimizer=optimizers.SGD(learning_rate=0.001),
    loss=losses.MeanSquaredError(),
    metrics=[metrics.MeanSquaredError()],
)
history = model.fit(x, y, batch_size=batch_size, epochs=epochs, validation_split=0.2)

print("History:")
print(history.history)

model.summary()

# --- checks ---
from tests.compat.harness import report

report(model=model, history=history)
