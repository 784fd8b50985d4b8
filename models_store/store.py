"""The local model store: a directory per model and version, each written atomically by a rename."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

from models_store.base import (
    LAST_VERSION_FILE, LATEST_FILE, MANIFEST_FILE, MODEL_NAME, REPORT_FILE, SYNTHESIZER_FILE, BaseModelStore,
    check_sha256, sha256_file, validate_model_name,
)
from models_store.errors import ModelIntegrityError, ModelNotFound, ModelStoreError

__all__ = ["ModelStore", "LATEST_FILE", "MANIFEST_FILE", "SYNTHESIZER_FILE", "sha256_file", "validate_model_name"]


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


class ModelStore(BaseModelStore):
    """models/<name>/<version>/{synthesizer.pkl, metadata.json, manifest.json} and a LATEST pointer."""

    def __init__(self, root: Path | str):
        self.root = Path(root)
        self.location = str(self.root)

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

    def check(self) -> None:
        """Raise ModelStoreError unless the store can be written (for /health)."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ModelStoreError(f"cannot create the model store: {exc.strerror}") from None
        if not os.access(self.root, os.W_OK):
            raise ModelStoreError("the model store is not writable")

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

    def _read_latest(self, name: str) -> str | None:
        try:
            return (self._model_dir(name) / LATEST_FILE).read_text()
        except FileNotFoundError:
            return None

    def _read_manifest(self, name: str, version: int) -> dict[str, Any]:
        return json.loads((self.version_dir(name, version) / MANIFEST_FILE).read_text())

    def report(self, name: str, version: int | str | None = None) -> dict[str, Any]:
        """The evaluation report of a version; ModelNotFound when it was trained without one."""
        version = self.resolve(name, version)
        try:
            return json.loads((self.version_dir(name, version) / REPORT_FILE).read_text())
        except FileNotFoundError:
            raise ModelNotFound(f"model {name!r} version {version} has no evaluation report") from None

    def synthesizer_path(self, name: str, version: int | str | None = None) -> Path:
        """Path of a synthesizer file whose sha256 matches its manifest; raises otherwise."""
        version = self.resolve(name, version)
        manifest = self.manifest(name, version)
        path = self.version_dir(name, version) / SYNTHESIZER_FILE
        if not path.is_file():
            raise ModelIntegrityError(f"model {name!r} version {version}: synthesizer file is missing")
        check_sha256(path, manifest, name, version)
        return path

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
