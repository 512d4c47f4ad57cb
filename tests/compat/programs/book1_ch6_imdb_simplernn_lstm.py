"""Understanding recurrent neural networks: SimpleRNN stacks (summary only), then SimpleRNN
and LSTM classifiers on IMDB

source: https://github.com/fchollet/deep-learning-with-python-notebooks/blob/master/first_edition/6.2-understanding-recurrent-neural-networks.ipynb
license: MIT
kind: declarative
changed: imports → cornu; IMDB from the fake Keras cache (512 train, 128 test); maxlen 500 → 100; epochs 10 → 1 for both models; the matplotlib cells left out; the models kept under names for the checks.
"""

import cornu as keras

keras.__version__

from cornu.layers import SimpleRNN

from cornu.models import Sequential
from cornu.layers import Embedding, SimpleRNN

model = Sequential()
model.add(Embedding(10000, 32))
model.add(SimpleRNN(32))
model.summary()

model = Sequential()
model.add(Embedding(10000, 32))
model.add(SimpleRNN(32, return_sequences=True))
model.summary()

model = Sequential()
model.add(Embedding(10000, 32))
model.add(SimpleRNN(32, return_sequences=True))
model.add(SimpleRNN(32, return_sequences=True))
model.add(SimpleRNN(32, return_sequences=True))
model.add(SimpleRNN(32))  # This last layer only returns the last outputs.
model.summary()

from cornu.datasets import imdb
from cornu.preprocessing import sequence

max_features = 10000  # number of words to consider as features
maxlen = 100  # cut texts after this number of words (among top max_features most common words)
batch_size = 32

print("Loading data...")
(input_train, y_train), (input_test, y_test) = imdb.load_data(num_words=max_features)
print(len(input_train), "train sequences")
print(len(input_test), "test sequences")

print("Pad sequences (samples x time)")
input_train = sequence.pad_sequences(input_train, maxlen=maxlen)
input_test = sequence.pad_sequences(input_test, maxlen=maxlen)
print("input_train shape:", input_train.shape)
print("input_test shape:", input_test.shape)

from cornu.layers import Dense

model = Sequential()
model.add(Embedding(max_features, 32))
model.add(SimpleRNN(32))
model.add(Dense(1, activation="sigmoid"))

model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["acc"])
history = model.fit(input_train, y_train, epochs=1, batch_size=128, validation_split=0.2)
rnn_model, rnn_history = model, history

from cornu.layers import LSTM

model = Sequential()
model.add(Embedding(max_features, 32))
model.add(LSTM(32))
model.add(Dense(1, activation="sigmoid"))

model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["acc"])
history = model.fit(input_train, y_train, epochs=1, batch_size=128, validation_split=0.2)

# --- checks ---
from tests.compat.harness import report

report(model_rnn=rnn_model, history_rnn=rnn_history, model_lstm=model, history_lstm=history)
