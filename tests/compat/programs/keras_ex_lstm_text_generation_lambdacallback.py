"""Keras 2 example lstm_text_generation: a character LSTM whose text samples are printed by a LambdaCallback(on_epoch_end=…) calling model.predict

source: https://github.com/keras-team/keras/blob/1a3ee8441933fc007be6b2beb47af67998d50737/examples/lstm_text_generation.py
license: MIT (Keras 2 examples)
kind: declarative
changed: `import keras` / `from keras… import …` → cornu; the example's prose docstring left out; get_file finds a made-up nietzsche.txt (6,000 random characters) that the data block (after the __future__ import) puts in the Keras cache instead of downloading it; epochs 60 → 1; 400 generated characters per diversity → 3; fit's return value kept for the checks.
keras3: from keras.utils.data_utils import get_file => from keras.utils import get_file
"""

from __future__ import print_function

# --- data: a made-up nietzsche.txt in the Keras cache, where get_file looks first ---
import os
import random as _random

_cache = os.path.join(os.environ.get("KERAS_HOME", os.path.expanduser("~/.keras")), "datasets")
os.makedirs(_cache, exist_ok=True)
_random.seed(0)
_alphabet = "abcdefghijklmnopqrstuvwxyz      ,.;:!?'\"-\n" + "ABCDEFGHIJ"
with open(os.path.join(_cache, "nietzsche.txt"), "w") as _f:
    _f.write("".join(_random.choice(_alphabet) for _ in range(6000)))
# --- end of data ---
from cornu.callbacks import LambdaCallback
from cornu.models import Sequential
from cornu.layers import Dense
from cornu.layers import LSTM
from cornu.optimizers import RMSprop
from cornu.utils.data_utils import get_file
import numpy as np
import random
import sys
import io

path = get_file("nietzsche.txt", origin="https://s3.amazonaws.com/text-datasets/nietzsche.txt")
with io.open(path, encoding="utf-8") as f:
    text = f.read().lower()
print("corpus length:", len(text))

chars = sorted(list(set(text)))
print("total chars:", len(chars))
char_indices = dict((c, i) for i, c in enumerate(chars))
indices_char = dict((i, c) for i, c in enumerate(chars))

# cut the text in semi-redundant sequences of maxlen characters
maxlen = 40
step = 3
sentences = []
next_chars = []
for i in range(0, len(text) - maxlen, step):
    sentences.append(text[i : i + maxlen])
    next_chars.append(text[i + maxlen])
print("nb sequences:", len(sentences))

print("Vectorization...")
x = np.zeros((len(sentences), maxlen, len(chars)), dtype=np.bool)
y = np.zeros((len(sentences), len(chars)), dtype=np.bool)
for i, sentence in enumerate(sentences):
    for t, char in enumerate(sentence):
        x[i, t, char_indices[char]] = 1
    y[i, char_indices[next_chars[i]]] = 1


# build the model: a single LSTM
print("Build model...")
model = Sequential()
model.add(LSTM(128, input_shape=(maxlen, len(chars))))
model.add(Dense(len(chars), activation="softmax"))

optimizer = RMSprop(learning_rate=0.01)
model.compile(loss="categorical_crossentropy", optimizer=optimizer)


def sample(preds, temperature=1.0):
    # helper function to sample an index from a probability array
    preds = np.asarray(preds).astype("float64")
    preds = np.log(preds) / temperature
    exp_preds = np.exp(preds)
    preds = exp_preds / np.sum(exp_preds)
    probas = np.random.multinomial(1, preds, 1)
    return np.argmax(probas)


def on_epoch_end(epoch, _):
    # Function invoked at end of each epoch. Prints generated text.
    print()
    print("----- Generating text after Epoch: %d" % epoch)

    start_index = random.randint(0, len(text) - maxlen - 1)
    for diversity in [0.2, 0.5, 1.0, 1.2]:
        print("----- diversity:", diversity)

        generated = ""
        sentence = text[start_index : start_index + maxlen]
        generated += sentence
        print('----- Generating with seed: "' + sentence + '"')
        sys.stdout.write(generated)

        for i in range(3):
            x_pred = np.zeros((1, maxlen, len(chars)))
            for t, char in enumerate(sentence):
                x_pred[0, t, char_indices[char]] = 1.0

            preds = model.predict(x_pred, verbose=0)[0]
            next_index = sample(preds, diversity)
            next_char = indices_char[next_index]

            sentence = sentence[1:] + next_char

            sys.stdout.write(next_char)
            sys.stdout.flush()
        print()


print_callback = LambdaCallback(on_epoch_end=on_epoch_end)

history = model.fit(x, y, batch_size=128, epochs=1, callbacks=[print_callback])

# --- checks ---
from tests.compat.harness import report

report(model=model, history=history)
