"""Local copies of synthesizers kept by sha256: a worker downloads a version once and checks it every load."""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

from models_store.base import sha256_file
from models_store.errors import ModelIntegrityError

SHA256 = re.compile(r"^[0-9a-f]{64}$")


class SynthesizerCache:
    """<root>/<sha256>.pkl; a file is used only while its content still hashes to its name."""

    def __init__(self, root: Path | str):
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        if not isinstance(sha256, str) or not SHA256.fullmatch(sha256):
            raise ModelIntegrityError("the manifest records no valid synthesizer sha256; refusing to load")
        return self.root / f"{sha256}.pkl"

    def get(self, sha256: str) -> Path | None:
        """The cached file, or None; a file that no longer matches its name is dropped."""
        path = self.path(sha256)
        if not path.is_file():
            return None
        if sha256_file(path) == sha256:
            return path
        path.unlink(missing_ok=True)
        return None

    def keep(self, source: Path, sha256: str) -> Path:
        """Move a file this worker wrote (and hashed) into the cache."""
        path = self.path(sha256)
        self.root.mkdir(parents=True, exist_ok=True)
        os.replace(source, path)
        return path

    def fetch(self, fs, remote_path: str, sha256: str, what: str) -> Path:
        """Download remote_path and keep it only if its sha256 is the expected one; `what` names it in errors."""
        path = self.path(sha256)
        self.root.mkdir(parents=True, exist_ok=True)
        part = self.root / f".{uuid.uuid4().hex}.part"  # concurrent downloads each write their own file
        try:
            fs.get_file(remote_path, str(part))
            actual = sha256_file(part)
            if actual != sha256:
                raise ModelIntegrityError(
                    f"{what}: synthesizer file sha256 {actual[:12]}… does not match the manifest; "
                    "refusing to load a file this store did not write"
                )
            os.replace(part, path)
        finally:
            part.unlink(missing_ok=True)
        return path
