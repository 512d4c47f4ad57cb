"""Keras 2 example imdb_cnn_lstm: Embedding, Dropout, Conv1D, MaxPooling1D, LSTM, Dense + Activation('sigmoid') on IMDB

source: https://github.com/keras-team/keras/blob/1a3ee8441933fc007be6b2beb47af67998d50737/examples/imdb_cnn_lstm.py
license: MIT (Keras 2 examples)
kind: declarative
changed: `import keras` / `from keras… import …` → cornu; the example's prose docstring left out; IMDB from the fake Keras cache (512 train, 128 test); epochs 2 → 1; fit's return value kept for the checks.
"""

from __future__ import print_function

from cornu.preprocessing import sequence
from cornu.models import Sequential
from cornu.layers import Dense, Dropout, Activation
from cornu.layers import Embedding
from cornu.layers import LSTM
from cornu.layers import Conv1D, MaxPooling1D
from cornu.datasets import imdb

# Embedding
max_features = 20000
maxlen = 100
embedding_size = 128

# Convolution
kernel_size = 5
filters = 64
pool_size = 4

# LSTM
lstm_output_size = 70

# Training
batch_size = 30
epochs = 1

"""
Note:
batch_size is highly sensitive.
Only 2 epochs are needed as the dataset is very small.
"""

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
model.add(Embedding(max_features, embedding_size, input_length=maxlen))
model.add(Dropout(0.25))
model.add(Conv1D(filters, kernel_size, padding="valid", activation="relu", strides=1))
model.add(MaxPooling1D(pool_size=pool_size))
model.add(LSTM(lstm_output_size))
model.add(Dense(1))
model.add(Activation("sigmoid"))

model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])

print("Train...")
history = model.fit(
    x_train, y_train, batch_size=batch_size, epochs=epochs, validation_data=(x_test, y_test)
)
score, acc = model.evaluate(x_test, y_test, batch_size=batch_size)
print("Test score:", score)
print("Test accuracy:", acc)

# --- checks ---
from tests.compat.harness import report

report(model=model, history=history, evaluation=[score, acc])
