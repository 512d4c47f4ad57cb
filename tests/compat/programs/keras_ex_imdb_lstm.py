"""Keras 2 example imdb_lstm: Embedding + LSTM(dropout, recurrent_dropout) on IMDB with batch_size evaluate

source: https://github.com/keras-team/keras/blob/1a3ee8441933fc007be6b2beb47af67998d50737/examples/imdb_lstm.py
license: MIT (Keras 2 examples)
kind: declarative
changed: `import keras` / `from keras… import …` → cornu; the example's prose docstring left out; IMDB from the fake Keras cache (512 train, 128 test); maxlen 80 → 40; epochs 15 → 1; fit's return value kept for the checks.
"""

from __future__ import print_function

from cornu.preprocessing import sequence
from cornu.models import Sequential
from cornu.layers import Dense, Embedding
from cornu.layers import LSTM
from cornu.datasets import imdb

max_features = 20000
# cut texts after this number of words (among top max_features most common words)
maxlen = 40
batch_size = 32

print("Loading data...")
(x_train, y_train), (x_test, y_test) = imdb.load_data(num_words=max_features)
print(len(x_train), "train sequences")
print(len(x_test), "test sequences")

print("Pad sequences (samples x time)")
x_train = sequence.pad_sequences(x_train, maxlen=maxlen)
x_test = sequence.pad_sequences(x_test, maxlen=maxlen)
print("x_train shape:", x_train.shape)
print("x_test shape:", x_test.shape)

print("Build model...")
model = Sequential()
model.add(Embedding(max_features, 128))
model.add(LSTM(128, dropout=0.2, recurrent_dropout=0.2))
model.add(Dense(1, activation="sigmoid"))

# try using different optimizers and different optimizer configs
model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])

print("Train...")
history = model.fit(
    x_train, y_train, batch_size=batch_size, epochs=1, validation_data=(x_test, y_test)
)
score, acc = model.evaluate(x_test, y_test, batch_size=batch_size)
print("Test score:", score)
print("Test accuracy:", acc)

# --- checks ---
from tests.compat.harness import report

report(model=model, history=history, evaluation=[score, acc])
