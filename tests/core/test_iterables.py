"""chunked: the one way the hub and its connectors cut a stream into batches."""

from integration_hub.core.iterables import chunked


def test_cuts_into_full_chunks_and_a_shorter_last_one():
    assert list(chunked(range(7), 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(chunked([], 3)) == []
    assert list(chunked("ab", 2)) == [["a", "b"]]


def test_reads_the_stream_only_as_far_as_the_chunk_asked_for():
    read = []

    def stream():
        for n in range(10):
            read.append(n)
            yield n

    first = next(chunked(stream(), 4))
    assert first == [0, 1, 2, 3] and read == [0, 1, 2, 3]
