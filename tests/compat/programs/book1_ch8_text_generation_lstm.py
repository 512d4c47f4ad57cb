"""Text generation with LSTM: a character-level LSTM trained one epoch at a time, sampled
with model.predict

source: https://github.com/fchollet/deep-learning-with-python-notebooks/blob/master/first_edition/8.1-text-generation-with-lstm.ipynb
license: MIT
kind: declarative
changed: imports → cornu; keras.utils.get_file finds a made-up nietzsche.txt (6,000 random lower-case characters and punctuation) that the data block puts in the Keras cache, instead of downloading it; the training loop's range(1, 60) → range(1, 2) and the 400 generated characters per temperature → 5; the last model.fit's History kept for the checks.
keras3: keras.optimizers.RMSprop(lr=0.01) => keras.optimizers.RMSprop(learning_rate=0.01)
"""

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

import cornu as keras

keras.__version__

import cornu as keras
import numpy as np

path = keras.utils.get_file(
    "nietzsche.txt", origin="https://s3.amazonaws.com/text-datasets/nietzsche.txt"
)
text = open(path).read().lower()
print("Corpus length:", len(text))

# Length of extracted character sequences
maxlen = 60

# We sample a new sequence every `step` characters
step = 3

# This holds our extracted sequences
sentences = []

# This holds the targets (the follow-up characters)
next_chars = []

for i in range(0, len(text) - maxlen, step):
    sentences.append(text[i : i + maxlen])
    next_chars.append(text[i + maxlen])
print("Number of sequences:", len(sentences))

# List of unique characters in the corpus
chars = sorted(list(set(text)))
print("Unique characters:", len(chars))
# Dictionary mapping unique characters to their index in `chars`
char_indices = dict((char, chars.index(char)) for char in chars)

# Next, one-hot encode the characters into binary arrays.
print("Vectorization...")
x = np.zeros((len(sentences), maxlen, len(chars)), dtype=np.bool)
y = np.zeros((len(sentences), len(chars)), dtype=np.bool)
for i, sentence in enumerate(sentences):
    for t, char in enumerate(sentence):
        x[i, t, char_indices[char]] = 1
    y[i, char_indices[next_chars[i]]] = 1

from cornu import layers

model = keras.models.Sequential()
model.add(layers.LSTM(128, input_shape=(maxlen, len(chars))))
model.add(layers.Dense(len(chars), activation="softmax"))

optimizer = keras.optimizers.RMSprop(lr=0.01)
model.compile(loss="categorical_crossentropy", optimizer=optimizer)


def sample(preds, temperature=1.0):
    preds = np.asarray(preds).astype("float64")
    preds = np.log(preds) / temperature
    exp_preds = np.exp(preds)
    preds = exp_preds / np.sum(exp_preds)
    probas = np.random.multinomial(1, preds, 1)
    return np.argmax(probas)


import random
import sys

for epoch in range(1, 2):
    print("epoch", epoch)
    # Fit the model for 1 epoch on the available training data
    history = model.fit(x, y, batch_size=128, epochs=1)

    # Select a text seed at random
    start_index = random.randint(0, len(text) - maxlen - 1)
    generated_text = text[start_index : start_index + maxlen]
    print('--- Generating with seed: "' + generated_text + '"')

    for temperature in [0.2, 0.5, 1.0, 1.2]:
        print("------ temperature:", temperature)
        sys.stdout.write(generated_text)

        # We generate 400 characters
        for i in range(5):
            sampled = np.zeros((1, maxlen, len(chars)))
            for t, char in enumerate(generated_text):
                sampled[0, t, char_indices[char]] = 1.0

            preds = model.predict(sampled, verbose=0)[0]
            next_index = sample(preds, temperature)
            next_char = chars[next_index]

            generated_text += next_char
            generated_text = generated_text[1:]

            sys.stdout.write(next_char)
            sys.stdout.flush()
        print()

# --- checks ---
from tests.compat.harness import report

report(model=model, history=history, predictions=preds, generated=len(generated_text))
