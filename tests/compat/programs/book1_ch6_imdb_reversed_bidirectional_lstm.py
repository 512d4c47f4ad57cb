"""Reversed sequences and a bidirectional LSTM on IMDB (1st edition)

source: https://github.com/fchollet/deep-learning-with-python-notebooks/blob/master/first_edition/6.3-advanced-usage-of-recurrent-neural-networks.ipynb (cells "Going even further": reversed-sequence LSTM and Bidirectional LSTM)
license: MIT
kind: declarative
changed: imports → cornu; IMDB from the fake Keras cache (512 train, 128 test); maxlen 500 → 100; epochs 10 → 1 for both models; the models kept under names for the checks.
"""

from cornu.datasets import imdb
from cornu.preprocessing import sequence
from cornu import layers
from cornu.models import Sequential

# Number of words to consider as features
max_features = 10000
# Cut texts after this number of words (among top max_features most common words)
maxlen = 100

# Load data
(x_train, y_train), (x_test, y_test) = imdb.load_data(num_words=max_features)

# Reverse sequences
x_train = [x[::-1] for x in x_train]
x_test = [x[::-1] for x in x_test]

# Pad sequences
x_train = sequence.pad_sequences(x_train, maxlen=maxlen)
x_test = sequence.pad_sequences(x_test, maxlen=maxlen)

model = Sequential()
model.add(layers.Embedding(max_features, 128))
model.add(layers.LSTM(32))
model.add(layers.Dense(1, activation="sigmoid"))

model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["acc"])
history = model.fit(x_train, y_train, epochs=1, batch_size=128, validation_split=0.2)
reversed_model, reversed_history = model, history

from cornu import backend as K

K.clear_session()

model = Sequential()
model.add(layers.Embedding(max_features, 32))
model.add(layers.Bidirectional(layers.LSTM(32)))
model.add(layers.Dense(1, activation="sigmoid"))

model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["acc"])
history = model.fit(x_train, y_train, epochs=1, batch_size=128, validation_split=0.2)

# --- checks ---
from tests.compat.harness import report

report(
    model_reversed=reversed_model,
    history_reversed=reversed_history,
    model_bidirectional=model,
    history_bidirectional=history,
)
