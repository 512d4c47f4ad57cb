"""The word-index sequences of IMDB and Reuters, turned into what Keras's loaders return.

Both apply the same steps in the same order as Keras 3.15: shift every word index by
`index_from` and prepend `start_char`, drop long sequences, then replace (or drop) the
words outside `skip_top <= index < num_words`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeVar

Label = TypeVar("Label")


def index_words(
    sequences: Iterable[Sequence[int]], start_char: int | None, index_from: int
) -> list[list[int]]:
    """Each sequence with `index_from` added to every word and `start_char` in front."""
    if start_char is not None:
        return [[start_char] + [w + index_from for w in x] for x in sequences]
    return [[w + index_from for w in x] for x in sequences]


def remove_long_seq(
    maxlen: int, seq: Sequence[list[int]], label: Iterable[Label]
) -> tuple[list[list[int]], list[Label]]:
    """The sequences shorter than `maxlen` and their labels, as Keras's `remove_long_seq`.

    Keras's documentation says longer sequences are truncated; they are dropped, and so is
    a sequence of exactly `maxlen` (its length counts `start_char`).
    """
    kept = [(x, y) for x, y in zip(seq, label, strict=False) if len(x) < maxlen]
    return [x for x, _ in kept], [y for _, y in kept]


def limit_vocabulary(
    sequences: Sequence[list[int]], num_words: int | None, skip_top: int, oov_char: int | None
) -> list[list[int]]:
    """Words outside `skip_top <= w < num_words` replaced by `oov_char` (dropped when it is
    None). Without `num_words`, Keras takes the largest index present, so that very word
    becomes `oov_char` too: a Keras quirk kept so that the arrays are Keras's own."""
    if not num_words:
        num_words = max(max(x) for x in sequences)
    if oov_char is not None:
        return [[w if skip_top <= w < num_words else oov_char for w in x] for x in sequences]
    return [[w for w in x if skip_top <= w < num_words] for x in sequences]


def read_word_index(fname: str, origin: str, file_hash: str) -> dict[str, int]:
    """A data set's word index (`{"word": rank}`), from Keras's cache or downloaded there
    (`cornu.utils.file_utils.DownloadError` when neither is possible)."""
    import json

    from cornu.utils.file_utils import get_file

    path = get_file(fname=fname, origin=origin, file_hash=file_hash)
    with open(path, encoding="utf-8") as f:
        index: dict[str, int] = json.load(f)
    return index
