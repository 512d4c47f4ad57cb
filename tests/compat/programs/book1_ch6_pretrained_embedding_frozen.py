"""Using pre-trained word embeddings: a frozen Embedding layer given its weights with
set_weights, saved and reloaded with save_weights / load_weights

source: https://github.com/fchollet/deep-learning-with-python-notebooks/blob/master/first_edition/6.1-using-word-embeddings.ipynb (cells "Putting it all together: from raw text to word embeddings")
license: MIT
kind: declarative
changed: imports → cornu; the raw aclImdb text, the Tokenizer (Keras 3 has none) and the GloVe file are replaced by arrays of the same shapes and dtypes made at the top (`data` int32 (600, 100) word ids < 10000, `labels` (600,) int, `embedding_matrix` (10000, 100) float64, a test set of 128), so the notebook's cells that read and tokenize files are left out; validation_samples 10000 → 400; epochs 10 → 1 for both models; the matplotlib cells left out; the weights file keeps the notebook's name. Keras 3 ignores Embedding's input_length, so its Sequential is not built when set_weights is called ("expecting 0 weights"): the reference run builds it first.
keras3: model.layers[0].set_weights([embedding_matrix]) => model.build((None, maxlen)); model.layers[0].set_weights([embedding_matrix])
keras3: model.save_weights("pre_trained_glove_model.h5") => model.save_weights("pre_trained_glove_model.weights.h5")
keras3: model.load_weights("pre_trained_glove_model.h5") => model.load_weights("pre_trained_glove_model.weights.h5")
"""

# --- data: arrays of the same shapes and dtypes as the tokenized aclImdb reviews and
# the GloVe matrix (600 training and 128 test reviews instead of 25,000 each) ---
import numpy as np

_rng = np.random.default_rng(0)
data = _rng.integers(0, 10000, size=(600, 100)).astype("int32")
labels = _rng.integers(0, 2, size=600)
embedding_matrix = _rng.normal(size=(10000, 100))
x_test = _rng.integers(0, 10000, size=(128, 100)).astype("int32")
y_test = _rng.integers(0, 2, size=128)
# --- end of data ---

maxlen = 100  # We will cut reviews after 100 words
training_samples = 200  # We will be training on 200 samples
validation_samples = 400  # We will be validating on 10000 samples
max_words = 10000  # We will only consider the top 10,000 words in the dataset

labels = np.asarray(labels)
print("Shape of data tensor:", data.shape)
print("Shape of label tensor:", labels.shape)

# Split the data into a training set and a validation set
# But first, shuffle the data, since we started from data
# where sample are ordered (all negative first, then all positive).
indices = np.arange(data.shape[0])
np.random.shuffle(indices)
data = data[indices]
labels = labels[indices]

x_train = data[:training_samples]
y_train = labels[:training_samples]
x_val = data[training_samples : training_samples + validation_samples]
y_val = labels[training_samples : training_samples + validation_samples]

embedding_dim = 100

from cornu.models import Sequential
from cornu.layers import Embedding, Flatten, Dense

model = Sequential()
model.add(Embedding(max_words, embedding_dim, input_length=maxlen))
model.add(Flatten())
model.add(Dense(32, activation="relu"))
model.add(Dense(1, activation="sigmoid"))
model.summary()

model.layers[0].set_weights([embedding_matrix])
model.layers[0].trainable = False

model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["acc"])
history = model.fit(x_train, y_train, epochs=1, batch_size=32, validation_data=(x_val, y_val))
model.save_weights("pre_trained_glove_model.h5")
frozen_model, frozen_history = model, history

from cornu.models import Sequential
from cornu.layers import Embedding, Flatten, Dense

model = Sequential()
model.add(Embedding(max_words, embedding_dim, input_length=maxlen))
model.add(Flatten())
model.add(Dense(32, activation="relu"))
model.add(Dense(1, activation="sigmoid"))
model.summary()

model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["acc"])
history = model.fit(x_train, y_train, epochs=1, batch_size=32, validation_data=(x_val, y_val))

model.load_weights("pre_trained_glove_model.h5")
score = model.evaluate(x_test, y_test)

# --- checks ---
from tests.compat.harness import report

report(
    model_frozen=frozen_model,
    history_frozen=frozen_history,
    model=model,
    history=history,
    score=score,
    trainable_weights=len(frozen_model.trainable_weights),
    embedding_equal=bool(np.allclose(model.layers[0].get_weights()[0], embedding_matrix)),
)
