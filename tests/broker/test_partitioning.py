"""The vectorised murmur2 partitions keys exactly as aiokafka's DefaultPartitioner (Kafka's default) does."""

from __future__ import annotations

import random
import uuid

from aiokafka.partitioner import DefaultPartitioner, murmur2 as reference_murmur2

from broker.partitioning import murmur2, partitions_of


def test_uuid_keys_land_on_the_partitions_kafka_would_choose():
    keys = [str(uuid.uuid4()).encode() for _ in range(2_000)]
    for partitions in ([0], [0, 1, 2, 3], list(range(12)), [3, 5, 9]):
        assert partitions_of(keys, partitions) == [DefaultPartitioner()(k, partitions, partitions) for k in keys]


def test_keys_of_every_length_and_byte_hash_as_kafka_does():
    rng = random.Random(3)
    keys = [bytes(rng.randrange(256) for _ in range(rng.randrange(0, 40))) for _ in range(3_000)]
    assert partitions_of(keys, list(range(7))) == [DefaultPartitioner()(k, list(range(7)), None) for k in keys]
    same_length = [k for k in keys if len(k) == 13]
    assert murmur2(same_length).tolist() == [reference_murmur2(k) for k in same_length]


def test_no_keys_no_partitions():
    assert partitions_of([], [0, 1]) == []
