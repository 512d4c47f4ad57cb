"""Keras 2's text preprocessing (`keras.preprocessing.text`, kept by Keras 3 under
`keras.src.legacy.preprocessing.text`): `Tokenizer`, `tokenizer_from_json`,
`text_to_word_sequence`, `one_hot` and `hashing_trick`."""

from __future__ import annotations

import hashlib
import json
import warnings
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np

FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'
"""The characters Keras's text functions drop by default."""


def text_to_word_sequence(
    input_text: str, filters: str = FILTERS, lower: bool = True, split: str = " "
) -> list[str]:
    """The words of `input_text`, as Keras's `keras.preprocessing.text.text_to_word_sequence`:
    lower-cased (with `lower`), each character of `filters` replaced by `split`, then split
    on `split`, empty words dropped."""
    if lower:
        input_text = input_text.lower()
    table: dict[str, str | int | None] = dict.fromkeys(filters, split)
    input_text = input_text.translate(str.maketrans(table))
    return [word for word in input_text.split(split) if word]


def hashing_trick(
    text: str,
    n: int,
    hash_function: Callable[[str], int] | str | None = None,
    filters: str = FILTERS,
    lower: bool = True,
    split: str = " ",
    analyzer: Callable[[str], Sequence[str]] | None = None,
) -> list[int]:
    """Each word of `text` as `hash(word) % (n - 1) + 1` (indices 1 to n - 1), as Keras's
    `keras.preprocessing.text.hashing_trick`.

    Args:
        hash_function: None for Python's `hash` (which varies between runs unless
            `PYTHONHASHSEED` is set), "md5" for a stable hash, or a function of a word.
        analyzer: a function from a text to its words, instead of
            `text_to_word_sequence`.
    """
    if hash_function is None:
        hash_function = hash
    elif hash_function == "md5":

        def hash_function(word: str) -> int:
            return int(hashlib.md5(word.encode()).hexdigest(), 16)

    if not callable(hash_function):
        raise TypeError(
            '`hash_function` must be None, "md5" or a function of a word. '
            f"Received: hash_function={hash_function!r}"
        )
    words = analyzer(text) if analyzer is not None else text_to_word_sequence(
        text, filters=filters, lower=lower, split=split
    )  # fmt: skip
    return [hash_function(word) % (n - 1) + 1 for word in words]


def one_hot(
    input_text: str,
    n: int,
    filters: str = FILTERS,
    lower: bool = True,
    split: str = " ",
    analyzer: Callable[[str], Sequence[str]] | None = None,
) -> list[int]:
    """`hashing_trick` with Python's `hash`, as Keras's `keras.preprocessing.text.one_hot`
    (word indices in 1 to n - 1, not one-hot vectors, despite the name)."""
    return hashing_trick(
        input_text, n, hash_function=hash, filters=filters, lower=lower, split=split,
        analyzer=analyzer,
    )  # fmt: skip


class Tokenizer:
    """Words (or characters) to integer indices, as Keras's
    `keras.preprocessing.text.Tokenizer`.

    `fit_on_texts` counts the words; `word_index` then numbers them from 1 by falling
    count (ties in order of first appearance), with `oov_token` at 1 when given.
    `texts_to_sequences` keeps the words whose index is below `num_words` (the others
    become `oov_token`'s index, or are dropped); `texts_to_matrix` gives one row per text.

    Args:
        num_words: keep only the `num_words - 1` most frequent words (None: all).
        filters: characters removed from the texts.
        lower: lower-case the texts.
        split: the word separator.
        char_level: every character is a token.
        oov_token: a token standing for words outside the vocabulary.
        analyzer: a function from a text to its tokens, instead of the filters.

    Raises:
        TypeError: an unknown keyword argument.
    """

    def __init__(
        self,
        num_words: int | None = None,
        filters: str = FILTERS,
        lower: bool = True,
        split: str = " ",
        char_level: bool = False,
        oov_token: str | None = None,
        analyzer: Callable[[str], Sequence[str]] | None = None,
        **kwargs: Any,
    ) -> None:
        if "nb_words" in kwargs:
            warnings.warn(
                "The `nb_words` argument in `Tokenizer` has been renamed `num_words`.",
                stacklevel=2,
            )
            num_words = kwargs.pop("nb_words")
        document_count = kwargs.pop("document_count", 0)
        if kwargs:
            raise TypeError(f"Unrecognized keyword arguments: {kwargs}")
        self.word_counts: dict[str, int] = OrderedDict()
        self.word_docs: dict[str, int] = defaultdict(int)
        self.filters, self.split, self.lower = filters, split, lower
        self.num_words, self.document_count = num_words, document_count
        self.char_level, self.oov_token, self.analyzer = char_level, oov_token, analyzer
        self.index_docs: dict[int, int] = defaultdict(int)
        self.word_index: dict[str, int] = {}
        self.index_word: dict[int, str] = {}

    def _tokens(self, text: str | list[str]) -> Sequence[str]:
        if self.char_level or isinstance(text, list):
            if self.lower:
                return [t.lower() for t in text] if isinstance(text, list) else text.lower()
            return text
        if self.analyzer is not None:
            return self.analyzer(text)
        return text_to_word_sequence(text, filters=self.filters, lower=self.lower, split=self.split)

    def fit_on_texts(self, texts: Iterable[str | list[str]]) -> None:
        """Count the words of `texts` (strings, or lists of tokens) and renumber them."""
        for text in texts:
            self.document_count += 1
            tokens = self._tokens(text)
            for word in tokens:
                self.word_counts[word] = self.word_counts.get(word, 0) + 1
            for word in set(tokens):
                self.word_docs[word] += 1
        ranked = sorted(self.word_counts.items(), key=lambda item: item[1], reverse=True)
        vocabulary = ([self.oov_token] if self.oov_token is not None else []) + [
            w for w, _ in ranked
        ]
        self.word_index = {word: i for i, word in enumerate(vocabulary, start=1)}
        self.index_word = {i: word for word, i in self.word_index.items()}
        for word, count in list(self.word_docs.items()):
            self.index_docs[self.word_index[word]] = count

    def fit_on_sequences(self, sequences: Sequence[Sequence[int]]) -> None:
        """Count in how many sequences each index appears (for "tfidf" matrices)."""
        self.document_count += len(sequences)
        for sequence in sequences:
            for index in set(sequence):
                self.index_docs[index] += 1

    def texts_to_sequences(self, texts: Iterable[str | list[str]]) -> list[list[int]]:
        """Each text as the list of its words' indices."""
        return list(self.texts_to_sequences_generator(texts))

    def texts_to_sequences_generator(self, texts: Iterable[str | list[str]]) -> Iterator[list[int]]:
        """`texts_to_sequences`, one text at a time."""
        oov = self.word_index.get(self.oov_token) if self.oov_token is not None else None
        for text in texts:
            sequence = []
            for word in self._tokens(text):
                index = self.word_index.get(word)
                if index is not None and not (self.num_words and index >= self.num_words):
                    sequence.append(index)
                elif oov is not None:
                    sequence.append(oov)
            yield sequence

    def sequences_to_texts(self, sequences: Iterable[Sequence[int]]) -> list[str]:
        """Each sequence of indices as its words joined by spaces."""
        return list(self.sequences_to_texts_generator(sequences))

    def sequences_to_texts_generator(self, sequences: Iterable[Sequence[int]]) -> Iterator[str]:
        """`sequences_to_texts`, one sequence at a time."""
        oov = self.word_index.get(self.oov_token) if self.oov_token is not None else None
        for sequence in sequences:
            words = []
            for number in sequence:
                word = self.index_word.get(number)
                if word is not None and not (self.num_words and number >= self.num_words):
                    words.append(word)
                elif oov is not None:
                    words.append(self.index_word[oov])
            yield " ".join(words)

    def texts_to_matrix(self, texts: Iterable[str | list[str]], mode: str = "binary") -> np.ndarray:
        """`sequences_to_matrix` of `texts_to_sequences(texts)`."""
        return self.sequences_to_matrix(self.texts_to_sequences(texts), mode=mode)

    def sequences_to_matrix(
        self, sequences: Sequence[Sequence[int]], mode: str = "binary"
    ) -> np.ndarray:
        """A float64 matrix `(len(sequences), num_words)`: per index, "binary" (1 if
        present), "count", "freq" (count / length) or "tfidf" (`(1 + log count) *
        log(1 + documents / (1 + documents with the index))`).

        Raises:
            ValueError: neither `num_words` nor a fitted vocabulary, "tfidf" before
                fitting, or an unknown `mode`.
        """
        if self.num_words:
            num_words = self.num_words
        elif self.word_index:
            num_words = len(self.word_index) + 1
        else:
            raise ValueError(
                "Specify a dimension (`num_words` argument), or fit on some text data first."
            )
        if mode == "tfidf" and not self.document_count:
            raise ValueError("Fit the Tokenizer on some data before using tfidf mode.")
        matrix = np.zeros((len(sequences), num_words))
        for i, sequence in enumerate(sequences):
            if not sequence:
                continue
            counts: dict[int, int] = defaultdict(int)
            for j in sequence:
                if j < num_words:
                    counts[j] += 1
            for j, c in counts.items():
                if mode == "count":
                    matrix[i][j] = c
                elif mode == "freq":
                    matrix[i][j] = c / len(sequence)
                elif mode == "binary":
                    matrix[i][j] = 1
                elif mode == "tfidf":
                    tf = 1 + np.log(c)
                    idf = np.log(1 + self.document_count / (1 + self.index_docs.get(j, 0)))
                    matrix[i][j] = tf * idf
                else:
                    raise ValueError("Unknown vectorization mode:", mode)
        return matrix

    def get_config(self) -> dict[str, Any]:
        """The tokenizer's settings and counts (the counts as JSON strings, as Keras)."""
        return {
            "num_words": self.num_words,
            "filters": self.filters,
            "lower": self.lower,
            "split": self.split,
            "char_level": self.char_level,
            "oov_token": self.oov_token,
            "document_count": self.document_count,
            "word_counts": json.dumps(self.word_counts),
            "word_docs": json.dumps(self.word_docs),
            "index_docs": json.dumps(self.index_docs),
            "index_word": json.dumps(self.index_word),
            "word_index": json.dumps(self.word_index),
        }

    def to_json(self, **kwargs: Any) -> str:
        """`{"class_name": "Tokenizer", "config": get_config()}` as JSON (`kwargs` go to
        `json.dumps`); `tokenizer_from_json` reads it back."""
        return json.dumps(
            {"class_name": type(self).__name__, "config": self.get_config()}, **kwargs
        )


def tokenizer_from_json(json_string: str) -> Tokenizer:
    """A `Tokenizer` from `Tokenizer.to_json()`'s text, as Keras's
    `keras.preprocessing.text.tokenizer_from_json`."""
    config = dict(json.loads(json_string).get("config"))
    word_counts = json.loads(config.pop("word_counts"))
    word_docs = json.loads(config.pop("word_docs"))
    index_docs = {int(k): v for k, v in json.loads(config.pop("index_docs")).items()}
    index_word = {int(k): v for k, v in json.loads(config.pop("index_word")).items()}
    word_index = json.loads(config.pop("word_index"))
    tokenizer = Tokenizer(**config)
    tokenizer.word_counts = word_counts
    tokenizer.word_docs = word_docs
    tokenizer.index_docs = index_docs
    tokenizer.word_index = word_index
    tokenizer.index_word = index_word
    return tokenizer


__all__ = ["Tokenizer", "hashing_trick", "one_hot", "text_to_word_sequence", "tokenizer_from_json"]
