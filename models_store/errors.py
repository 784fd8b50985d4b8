"""Errors of the model store."""


class ModelStoreError(Exception):
    """Base class of model store errors."""


class ModelNotFound(ModelStoreError):
    """No such model or version."""


class ModelIntegrityError(ModelStoreError):
    """A synthesizer file does not match the sha256 its manifest recorded; it is never unpickled."""
