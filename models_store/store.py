"""The model store: a directory per model and version, each written atomically."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import uuid
from pathlib import Path
from typing import Any

from models_store.errors import ModelIntegrityError, ModelNotFound, ModelStoreError

MODEL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
SYNTHESIZER_FILE = "synthesizer.pkl"
METADATA_FILE = "metadata.json"
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


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


class ModelStore:
    """models/<name>/<version>/{synthesizer.pkl, metadata.json, manifest.json} and a LATEST pointer."""

    def __init__(self, root: Path | str):
        self.root = Path(root)

    # --- paths -----------------------------------------------------------------------------
    def _model_dir(self, name: str) -> Path:
        return self.root / validate_model_name(name)

    def version_dir(self, name: str, version: int | str) -> Path:
        return self._model_dir(name) / str(int(version))

    def staging_dir(self) -> Path:
        """A fresh directory on the store's filesystem, for a version being written."""
        path = self.root / ".staging" / uuid.uuid4().hex
        path.mkdir(parents=True)
        return path

    # --- reading ---------------------------------------------------------------------------
    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(
            p.name for p in self.root.iterdir() if p.is_dir() and MODEL_NAME.fullmatch(p.name) and self.versions(p.name)
        )

    def versions(self, name: str) -> list[int]:
        model_dir = self._model_dir(name)
        if not model_dir.is_dir():
            return []
        return sorted(
            int(p.name) for p in model_dir.iterdir() if p.name.isdigit() and (p / MANIFEST_FILE).is_file()
        )

    def exists(self, name: str) -> bool:
        return bool(self.versions(name))

    def latest(self, name: str) -> int:
        """The version the LATEST pointer names (the newest version if the pointer is missing)."""
        versions = self.versions(name)
        if not versions:
            raise ModelNotFound(f"model {name!r} not found")
        try:
            pointed = int((self._model_dir(name) / LATEST_FILE).read_text().strip())
        except (FileNotFoundError, ValueError):
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
        version = self.resolve(name, version)
        return json.loads((self.version_dir(name, version) / MANIFEST_FILE).read_text())

    def list(self) -> list[dict[str, Any]]:
        """Every model with its versions and latest version."""
        out = []
        for name in self.names():
            out.append({"name": name, "latest_version": self.latest(name), "versions": self.versions(name)})
        return out

    def synthesizer_path(self, name: str, version: int | str | None = None) -> Path:
        """Path of a synthesizer file whose sha256 matches its manifest; raises otherwise."""
        version = self.resolve(name, version)
        manifest = self.manifest(name, version)
        path = self.version_dir(name, version) / SYNTHESIZER_FILE
        if not path.is_file():
            raise ModelIntegrityError(f"model {name!r} version {version}: synthesizer file is missing")
        actual = sha256_file(path)
        if actual != manifest.get("synthesizer_sha256"):
            raise ModelIntegrityError(
                f"model {name!r} version {version}: synthesizer file sha256 {actual[:12]}… does not match "
                "the manifest; refusing to load a file this store did not write"
            )
        return path

    def load(self, name: str, version: int | str | None = None):
        """Unpickle a synthesizer after checking its sha256 (imports SDV: call in a worker process)."""
        path = self.synthesizer_path(name, version)
        from sdv.utils import load_synthesizer

        return load_synthesizer(str(path))

    # --- writing ---------------------------------------------------------------------------
    def publish(self, name: str, staging: Path, manifest: dict[str, Any], make_latest: bool = True) -> int:
        """Move a staged version (holding synthesizer.pkl and metadata.json) into place atomically."""
        model_dir = self._model_dir(name)
        model_dir.mkdir(parents=True, exist_ok=True)
        synth = staging / SYNTHESIZER_FILE
        if not synth.is_file():
            raise ModelStoreError("staged version has no synthesizer file")
        manifest = dict(manifest, name=name, synthesizer_sha256=sha256_file(synth))
        for _ in range(100):
            # every numbered entry counts, even one without a manifest, and so do deleted versions
            taken = [int(p.name) for p in model_dir.iterdir() if p.name.isdigit()]
            try:
                taken.append(int((model_dir / LAST_VERSION_FILE).read_text()))
            except (FileNotFoundError, ValueError):
                pass
            version = max(taken, default=0) + 1
            manifest["version"] = version
            (staging / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, sort_keys=True, default=str))
            try:
                # rename fails if a concurrent writer took this version number first
                os.rename(staging, model_dir / str(version))
            except OSError:
                if (model_dir / str(version)).exists():
                    continue
                raise
            _write_atomic(model_dir / LAST_VERSION_FILE, str(version))
            if make_latest:
                _write_atomic(model_dir / LATEST_FILE, str(version))
            return version
        raise ModelStoreError(f"could not allocate a version for model {name!r}")

    def delete(self, name: str, version: int | str) -> None:
        version = self.resolve(name, version)
        model_dir = self._model_dir(name)
        trash = self.root / ".staging" / f"deleted-{uuid.uuid4().hex}"
        trash.parent.mkdir(parents=True, exist_ok=True)
        os.rename(self.version_dir(name, version), trash)
        shutil.rmtree(trash, ignore_errors=True)
        remaining = self.versions(name)
        if not remaining:
            (model_dir / LATEST_FILE).unlink(missing_ok=True)  # LAST_VERSION stays
        else:  # latest() falls back to the newest version when the pointer names the deleted one
            _write_atomic(model_dir / LATEST_FILE, str(self.latest(name)))
