"""Which store a location names: a local directory, or an fsspec URL such as s3://bucket/models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from models_store.base import BaseModelStore
from models_store.store import ModelStore

# The store each URL was opened with in this process, options included: pool processes receive the
# worker's store (see worker/state.py) and later open it by its URL alone, as jobs carry only the location.
_opened: dict[str, BaseModelStore] = {}


def is_url(location: Path | str) -> bool:
    return isinstance(location, str) and "://" in location


def use_store(store: BaseModelStore) -> BaseModelStore:
    """Make `store` the one open_store(store.location) returns in this process."""
    _opened[store.location] = store
    return store


def open_store(location: Path | str, storage_options: dict[str, Any] | None = None,
               cache_dir: Path | str | None = None) -> BaseModelStore:
    """A local ModelStore for a path; for a URL the store opened with it before, else a new RemoteModelStore."""
    if not is_url(location):
        return ModelStore(location)
    location = location.rstrip("/")
    if storage_options is None and cache_dir is None and location in _opened:
        return _opened[location]
    from models_store.remote import RemoteModelStore  # imports fsspec: only when a URL is configured

    return use_store(RemoteModelStore(location, storage_options, cache_dir))


def s3_options(settings) -> dict[str, Any]:
    """s3fs options from the MODELS_S3_* settings; unset ones fall back to the AWS SDK's defaults."""
    options: dict[str, Any] = {}
    if settings.models_s3_endpoint_url:
        options["endpoint_url"] = settings.models_s3_endpoint_url
    if settings.models_s3_region:
        options["client_kwargs"] = {"region_name": settings.models_s3_region}
    if settings.models_s3_access_key_id:
        options["key"] = settings.models_s3_access_key_id
    if settings.models_s3_secret_access_key:
        options["secret"] = settings.models_s3_secret_access_key.get_secret_value()
    return options


def store_from_settings(settings) -> BaseModelStore:
    """The store MODELS_DIR names, with the S3 options and the local cache the settings give."""
    location = settings.models_dir
    if not is_url(location):
        return ModelStore(location)
    options = s3_options(settings) if location.split("://", 1)[0] in ("s3", "s3a") else {}
    return open_store(location, options, settings.models_cache_path)
