"""Sampling records: deterministic per (request, chunk), run in spawned worker processes."""

from __future__ import annotations

import hashlib
import os
from collections import OrderedDict
from typing import Any

from synthesis.conditions import sample_conditioned
from synthesis.records import build_messages, build_records, record_id
from synthesis.rules import apply_bmi_rule

os.environ.setdefault("TQDM_DISABLE", "1")  # SDV's conditional sampling draws progress bars
_CACHE: "OrderedDict[tuple[str, str, int], Any]" = OrderedDict()
_CACHE_SIZE = 4
__all__ = ["build_records", "chunk_seed", "record_id", "sample_chunk", "sample_frame", "sample_messages"]


def chunk_seed(request_id: str, chunk_index: int, seed: int | None = None) -> int:
    """The seed of one chunk, in [0, 2**31): from (user seed, chunk index) when a seed is given, so
    the same seed reproduces the same rows in any request; else from (request id, chunk index)."""
    source = f"seed:{seed}:{chunk_index}" if seed is not None else f"{request_id}:{chunk_index}"
    digest = hashlib.sha256(source.encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def _model(models_dir: str, name: str, version: int):
    """(synthesizer, manifest) of a version, loaded once per process (sha256 checked by the store)."""
    key = (models_dir, name, version)
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    from models_store import open_store

    store = open_store(models_dir)
    _CACHE[key] = (store.load(name, version), store.manifest(name, version))
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return _CACHE[key]


def sample_frame(models_dir: str, name: str, version: int, num_rows: int, seed: int, conditions=None):
    """num_rows rows from a model version; the same seed (and conditions) gives the same rows."""
    synthesizer, manifest = _model(models_dir, name, version)
    # Transformers draw from their own generators (reverse transforms, condition encoding): reset
    # them too, so a chunk's rows depend on its seed alone, not on what this process sampled before.
    synthesizer.reset_sampling()
    synthesizer._set_random_state(seed)
    if conditions:
        frame = sample_conditioned(synthesizer, num_rows, conditions)
    else:
        frame = synthesizer.sample(num_rows)
        if isinstance(frame, dict):
            frame = next(iter(frame.values()))
    return apply_bmi_rule(frame) if manifest.get("keep_bmi_rule") else frame


def _chunk_frame(chunk: dict[str, Any], models_dir: str):
    seed = chunk_seed(chunk["request_id"], chunk["chunk_index"], chunk.get("seed"))
    return sample_frame(models_dir, chunk["model_name"], chunk["model_version"], chunk["num_rows"], seed,
                        chunk.get("conditions"))


def sample_chunk(chunk: dict[str, Any], models_dir: str) -> list[dict[str, Any]]:
    """A chunk as record dicts."""
    return build_records(_chunk_frame(chunk, models_dir), chunk)


def sample_messages(chunk: dict[str, Any], models_dir: str) -> list[tuple[bytes, bytes]]:
    """A chunk as Kafka (key, value) pairs, JSON-encoded here to keep that work off the event loop."""
    return build_messages(_chunk_frame(chunk, models_dir), chunk)


def warm_up() -> bool:
    """Import SDV in a fresh pool process so the first real request does not pay for it."""
    import sdv.single_table  # noqa: F401

    return True
