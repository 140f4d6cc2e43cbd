"""Length-bucketed encoding: batches sorted by length, vectors back in input order."""

import numpy as np
import pytest

from search.encoding.batching import encode_bucketed, length_order, prefetched


def test_length_order_is_longest_first_and_stable():
    # lengths 3, 9, 3, 5: 9 (index 1), 5 (index 3), then the two 3s in input order (0, 2)
    assert length_order([3, 9, 3, 5]).tolist() == [1, 3, 0, 2]


def _one_hot_forward(batches_seen):
    """A forward pass whose vector for a text says which text it was (one-hot of its number)."""

    def forward(batch):
        batches_seen.append([len(t) for t in batch])
        out = np.zeros((len(batch), 8), dtype=np.float32)
        for row, text in enumerate(batch):
            out[row, int(text.split()[0])] = 1.0
        return out

    return forward


@pytest.mark.parametrize("prefetch", [False, True])
def test_vectors_come_back_in_input_order(prefetch):
    texts = ["0 a", "1 a a a a a", "2 a a", "3", "4 a a a a", "5 a"]
    lengths = [len(t.split()) for t in texts]  # 2, 6, 3, 1, 5, 2
    seen, done = [], []
    vectors = encode_bucketed(
        texts, lengths, 2, 8, list, _one_hot_forward(seen), prefetch, lambda d, t: done.append(d)
    )
    assert np.array_equal(vectors[:, :6], np.eye(6, dtype=np.float32))  # row i is text i
    # batches of 2 by length: (6, 5), (3, 2), (2, 1) words -> the texts' character lengths
    assert seen == [[11, 9], [5, 3], [3, 1]]
    assert done == [2, 4, 6]


def test_no_texts_give_an_empty_matrix():
    assert encode_bucketed([], [], 4, 3, list, None).shape == (0, 3)


def test_a_failure_while_tokenizing_ahead_reaches_the_caller():
    def items():
        yield 1
        raise ValueError("bad text")

    got = []
    with pytest.raises(ValueError, match="bad text"):
        for item in prefetched(items()):
            got.append(item)
    assert got == [1]


def test_a_consumer_that_stops_early_releases_the_producer():
    stream = prefetched(iter(range(100)), depth=1)
    assert next(stream) == 0
    stream.close()  # the producer, blocked on a full buffer, is drained and ends
