"""Kafka's default partition of many keys at once: murmur2 over numpy arrays instead of a Python loop per key.

aiokafka's DefaultPartitioner hashes each key in a Python loop over its bytes, on the event loop, for
every record produced. The same murmur2 (Kafka's Utils.murmur2), run over all keys of one length at
once, gives the same partitions (tests/broker/test_partitioning.py).
"""

from __future__ import annotations

import numpy as np

_SEED, _M = 0x9747B28C, np.uint32(0x5BD1E995)


def murmur2(keys: list[bytes]) -> np.ndarray:
    """Kafka's murmur2 of each key (all of one length), as unsigned 32-bit values.

    numpy's uint32 products wrap modulo 2**32, as the Java ints of Kafka's version do."""
    length = len(keys[0])
    data = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), length)
    words = np.ascontiguousarray(data[:, : length & ~3]).view("<u4")  # little-endian 4-byte words
    h = np.full(len(keys), (_SEED ^ length) & 0xFFFFFFFF, dtype=np.uint32)
    with np.errstate(over="ignore"):
        for i in range(length // 4):
            k = words[:, i] * _M
            k ^= k >> np.uint32(24)
            k *= _M
            h *= _M
            h ^= k
        tail = data[:, length & ~3:].astype(np.uint32)
        if length % 4 >= 3:
            h ^= tail[:, 2] << np.uint32(16)
        if length % 4 >= 2:
            h ^= tail[:, 1] << np.uint32(8)
        if length % 4 >= 1:
            h ^= tail[:, 0]
            h *= _M
        h ^= h >> np.uint32(13)
        h *= _M
        h ^= h >> np.uint32(15)
    return h


def partitions_of(keys: list[bytes], partitions: list[int]) -> list[int]:
    """The partition DefaultPartitioner gives each key (none may be None), partitions sorted by id."""
    if not keys:
        return []
    result = np.empty(len(keys), dtype=np.int64)
    lengths = list(map(len, keys))
    if len(set(lengths)) == 1:  # the pipeline's keys: uuids, one length
        by_length = {lengths[0]: list(range(len(keys)))}
    else:
        by_length = {}
        for index, length in enumerate(lengths):
            by_length.setdefault(length, []).append(index)
    table = np.asarray(partitions, dtype=np.int64)
    for length, indices in by_length.items():
        if length:
            hashes = murmur2([keys[i] for i in indices])
        else:
            hashes = np.full(len(indices), _murmur2_empty(), dtype=np.uint32)
        result[indices] = table[((hashes & np.uint32(0x7FFFFFFF)) % np.uint32(len(partitions))).astype(np.int64)]
    return result.tolist()


def _murmur2_empty() -> int:
    """murmur2 of b"": no words, no tail."""
    h = _SEED
    h ^= h >> 13
    h = (h * int(_M)) & 0xFFFFFFFF
    return h ^ (h >> 15)
