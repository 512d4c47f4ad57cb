"""Sequence processing with convnets: a 1D convnet on IMDB (1st edition)

source: https://github.com/fchollet/deep-learning-with-python-notebooks/blob/master/first_edition/6.4-sequence-processing-with-convnets.ipynb (cells "Implementing a 1D convnet")
license: MIT
kind: declarative
changed: imports → cornu; IMDB from the fake Keras cache (512 train, 128 test); max_len 500 → 100; epochs 10 → 2; the matplotlib cell left out.
keras3: RMSprop(lr=1e-4) => RMSprop(learning_rate=1e-4)
"""

import cornu as keras

keras.__version__

from cornu.datasets import imdb
from cornu.preprocessing import sequence

max_features = 10000  # number of words to consider as features
max_len = 100  # cut texts after this number of words (among top max_features most common words)

print("Loading data...")
(x_train, y_train), (x_test, y_test) = imdb.load_data(num_words=max_features)
print(len(x_train), "train sequences")
print(len(x_test), "test sequences")

print("Pad sequences (samples x time)")
x_train = sequence.pad_sequences(x_train, maxlen=max_len)
x_test = sequence.pad_sequences(x_test, maxlen=max_len)
print("x_train shape:", x_train.shape)
print("x_test shape:", x_test.shape)

from cornu.models import Sequential
from cornu import layers
from cornu.optimizers import RMSprop

model = Sequential()
model.add(layers.Embedding(max_features, 128, input_length=max_len))
model.add(layers.Conv1D(32, 7, activation="relu"))
model.add(layers.MaxPooling1D(5))
model.add(layers.Conv1D(32, 7, activation="relu"))
model.add(layers.GlobalMaxPooling1D())
model.add(layers.Dense(1))

model.summary()

model.compile(optimizer=RMSprop(lr=1e-4), loss="binary_crossentropy", metrics=["acc"])
history = model.fit(x_train, y_train, epochs=2, batch_size=128, validation_split=0.2)

# --- checks ---
from tests.compat.harness import report

report(model=model, history=history)
