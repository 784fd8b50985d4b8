"""Versioned synthesizers on disk: models/<name>/<version>/ with a manifest, written atomically."""

from models_store.errors import ModelIntegrityError, ModelNotFound, ModelStoreError
from models_store.store import ModelStore, validate_model_name

__all__ = ["ModelStore", "ModelStoreError", "ModelNotFound", "ModelIntegrityError", "validate_model_name"]
