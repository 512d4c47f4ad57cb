"""Keras 2 example imdb_cnn: Embedding, Dropout, Conv1D, GlobalMaxPooling1D and Dense layers on IMDB

source: https://github.com/keras-team/keras/blob/1a3ee8441933fc007be6b2beb47af67998d50737/examples/imdb_cnn.py
license: MIT (Keras 2 examples)
kind: declarative
changed: `import keras` / `from keras… import …` → cornu; the example's prose docstring left out; IMDB from the fake Keras cache (512 train, 128 test); epochs 2 → 1; fit's return value kept for the checks.
"""

from __future__ import print_function

from cornu.preprocessing import sequence
from cornu.models import Sequential
from cornu.layers import Dense, Dropout, Activation
from cornu.layers import Embedding
from cornu.layers import Conv1D, GlobalMaxPooling1D
from cornu.datasets import imdb

# set parameters:
max_features = 5000
maxlen = 400
batch_size = 32
embedding_dims = 50
filters = 250
kernel_size = 3
hidden_dims = 250
epochs = 1

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

# we start off with an efficient embedding layer which maps
# our vocab indices into embedding_dims dimensions
model.add(Embedding(max_features, embedding_dims, input_length=maxlen))
model.add(Dropout(0.2))

# we add a Convolution1D, which will learn filters
# word group filters of size filter_length:
model.add(Conv1D(filters, kernel_size, padding="valid", activation="relu", strides=1))
# we use max pooling:
model.add(GlobalMaxPooling1D())

# We add a vanilla hidden layer:
model.add(Dense(hidden_dims))
model.add(Dropout(0.2))
model.add(Activation("relu"))

# We project onto a single unit output layer, and squash it with a sigmoid:
model.add(Dense(1))
model.add(Activation("sigmoid"))

model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
history = model.fit(
    x_train, y_train, batch_size=batch_size, epochs=epochs, validation_data=(x_test, y_test)
)

# --- checks ---
from tests.compat.harness import report

report(model=model, history=history)
