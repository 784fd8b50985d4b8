"""Versioned synthesizers: models/<name>/<version>/ with a manifest, in a local directory or at an fsspec URL."""

from models_store.base import BaseModelStore, validate_model_name
from models_store.errors import ModelIntegrityError, ModelNotFound, ModelStoreError
from models_store.location import is_url, open_store, store_from_settings, use_store
from models_store.store import ModelStore

__all__ = ["BaseModelStore", "ModelStore", "ModelStoreError", "ModelNotFound", "ModelIntegrityError",
           "validate_model_name", "is_url", "open_store", "store_from_settings", "use_store"]
