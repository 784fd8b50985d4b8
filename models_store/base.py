"""What every model store shares: names, resolving a version, the LATEST fallback, sha256-checked loading."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from models_store.errors import ModelIntegrityError, ModelNotFound, ModelStoreError

MODEL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
SYNTHESIZER_FILE = "synthesizer.pkl"
METADATA_FILE = "metadata.json"
REPORT_FILE = "report.json"
MANIFEST_FILE = "manifest.json"
LATEST_FILE = "LATEST"
LAST_VERSION_FILE = "LAST_VERSION"  # highest number ever given, so a deleted version's number is never reused


def validate_model_name(name: str) -> str:
    if not isinstance(name, str) or not MODEL_NAME.fullmatch(name):
        raise ModelStoreError(f"invalid model name {name!r}: use 1-64 of A-Z a-z 0-9 _ -")
    return name


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_sha256(path: Path, manifest: dict[str, Any], name: str, version: int) -> None:
    """Raise unless the file's sha256 is the one the manifest recorded (before anything unpickles it)."""
    actual = sha256_file(path)
    if actual != manifest.get("synthesizer_sha256"):
        raise ModelIntegrityError(
            f"model {name!r} version {version}: synthesizer file sha256 {actual[:12]}… does not match "
            "the manifest; refusing to load a file this store did not write"
        )


class BaseModelStore:
    """models/<name>/<version>/{synthesizer.pkl, metadata.json, report.json, manifest.json}, LATEST, LAST_VERSION.

    A version exists once its manifest does; subclasses say where the files live.
    """

    location: str

    # --- what a subclass provides ------------------------------------------------------------
    def versions(self, name: str) -> list[int]:
        raise NotImplementedError

    def names(self) -> list[str]:
        raise NotImplementedError

    def _read_latest(self, name: str) -> str | None:
        """The LATEST pointer's text, None when there is none."""
        raise NotImplementedError

    def _read_manifest(self, name: str, version: int) -> dict[str, Any]:
        raise NotImplementedError

    def synthesizer_path(self, name: str, version: int | str | None = None) -> Path:
        """A local synthesizer file whose sha256 matches its manifest; raises otherwise."""
        raise NotImplementedError

    # --- shared ------------------------------------------------------------------------------
    def exists(self, name: str) -> bool:
        return bool(self.versions(name))

    def latest(self, name: str) -> int:
        """The version the LATEST pointer names (the newest version if the pointer is missing)."""
        versions = self.versions(name)
        if not versions:
            raise ModelNotFound(f"model {name!r} not found")
        try:
            pointed = int((self._read_latest(name) or "").strip())
        except ValueError:
            return versions[-1]
        return pointed if pointed in versions else versions[-1]

    def resolve(self, name: str, version: int | str | None = None) -> int:
        if version is None or version == "latest":
            return self.latest(name)
        try:
            version = int(version)
        except (TypeError, ValueError):
            raise ModelNotFound(f"model {name!r} has no version {version!r}") from None
        if version not in self.versions(name):
            raise ModelNotFound(f"model {name!r} has no version {version}")
        return version

    def manifest(self, name: str, version: int | str | None = None) -> dict[str, Any]:
        return self._read_manifest(name, self.resolve(name, version))

    def synthesizer_location(self, name: str, version: int | str) -> str:
        """The version's synthesizer file: a local path that sdv.utils.load_synthesizer opens, or its URL in a URL store."""
        return f"{self.version_dir(name, version)}/{SYNTHESIZER_FILE}"

    def newest(self) -> str | None:
        """The most recently trained model: the one whose latest version was created last (None: no model)."""
        created = {n: str(self.manifest(n).get("created_at") or "") for n in self.names()}
        return max(created, key=lambda n: (created[n], n)) if created else None

    def list(self) -> list[dict[str, Any]]:
        """Every model with its versions and latest version."""
        return [{"name": n, "latest_version": self.latest(n), "versions": self.versions(n)} for n in self.names()]

    def load(self, name: str, version: int | str | None = None):
        """Unpickle a synthesizer after checking its sha256 (imports SDV: call in a worker process)."""
        path = self.synthesizer_path(name, version)
        from sdv.utils import load_synthesizer

        return load_synthesizer(str(path))
