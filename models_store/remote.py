"""A model store at an fsspec URL (s3://bucket/prefix, memory://, file://): object-storage semantics, no rename.

Publishing cannot move a finished directory into place, so a version is made visible by its last write:
1. claim the number: create <name>/<v>/.claim only if it does not exist (S3 If-None-Match: *); a taken
   number fails and the next is tried, so two workers publishing at once get different numbers;
2. upload synthesizer.pkl, metadata.json and report.json;
3. create manifest.json: from here on the version exists;
4. raise LAST_VERSION and move LATEST forward (on S3 with If-Match, so a slower publisher never moves it back).
Deleting removes the manifest first and keeps the .claim, so a deleted version's number is never reused.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import tempfile
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from models_store.base import (
    LAST_VERSION_FILE, LATEST_FILE, MANIFEST_FILE, MODEL_NAME, REPORT_FILE, SYNTHESIZER_FILE, BaseModelStore,
    sha256_file, validate_model_name,
)
from models_store.cache import SynthesizerCache
from models_store.errors import ModelIntegrityError, ModelNotFound, ModelStoreError
from models_store.objects import conditional_create_works, create, raise_to

logger = logging.getLogger(__name__)
CLAIM_FILE = ".claim"
DEFAULT_CACHE = Path(tempfile.gettempdir()) / "cardiosynth-model-cache"


def _number(part: str) -> int | None:
    return int(part) if part.isascii() and part.isdigit() else None


class RemoteModelStore(BaseModelStore):
    """The store's files under an fsspec URL; synthesizers are loaded from a local cache keyed by sha256."""

    def __init__(self, location: str, storage_options: dict[str, Any] | None = None,
                 cache_dir: Path | str | None = None):
        import fsspec

        self.location = location.rstrip("/")
        self.storage_options = dict(storage_options or {})
        self.cache_dir = Path(cache_dir or DEFAULT_CACHE)
        options = {"use_listings_cache": False, **self.storage_options}  # other workers publish too: never list stale
        protocol = fsspec.core.split_protocol(self.location)[0]
        if protocol == "file":
            options.setdefault("auto_mkdir", True)
        self.fs, self.root = fsspec.core.url_to_fs(self.location, **options)
        self.root = self.root.rstrip("/")
        self._s3 = "s3" in (self.fs.protocol if isinstance(self.fs.protocol, tuple) else (self.fs.protocol,))
        self.cache = SynthesizerCache(self.cache_dir / "sha256")
        self._manifests: dict[tuple[str, int], dict[str, Any]] = {}  # written once, never changed
        self._conditional_writes_checked = False

    def __reduce__(self):  # pool processes get the same store (options included) through pickling
        return (RemoteModelStore, (self.location, self.storage_options, self.cache_dir))

    def __repr__(self) -> str:  # never the storage options: they hold the secret key
        return f"RemoteModelStore({self.location!r})"

    # --- paths -----------------------------------------------------------------------------
    def _path(self, *parts: str) -> str:
        return "/".join([self.root, *parts])

    def _model_path(self, name: str) -> str:
        return self._path(validate_model_name(name))

    def version_dir(self, name: str, version: int | str) -> str:
        """The version's URL (there is no local directory)."""
        return f"{self.location}/{validate_model_name(name)}/{int(version)}"

    def staging_dir(self) -> Path:
        """A fresh local directory, next to the cache, for a version being written."""
        path = self.cache_dir / ".staging" / uuid.uuid4().hex
        path.mkdir(parents=True)
        return path

    def check(self) -> None:
        """Raise ModelStoreError unless the store's bucket (or folder) can be listed (for /health)."""
        top = self.root.split("/")[0] if self._s3 else self.root
        try:
            if not self._s3:
                self.fs.makedirs(top, exist_ok=True)
            self.fs.ls(top, detail=False)
        except Exception as exc:  # any failure of the client (auth, network, no bucket) means "down"
            raise ModelStoreError(f"cannot list the model store {self.location}: {type(exc).__name__}: {exc}") from None

    # --- reading ---------------------------------------------------------------------------
    def _find(self, path: str) -> list[str]:
        try:
            return [p[len(path) + 1:] for p in self.fs.find(path) if p.startswith(path + "/")]
        except FileNotFoundError:
            return []

    def _scan(self) -> dict[str, list[int]]:
        """Every model's versions from one listing."""
        found: dict[str, set[int]] = {}
        for rel in self._find(self.root):
            parts = rel.split("/")
            if len(parts) == 3 and parts[2] == MANIFEST_FILE and MODEL_NAME.fullmatch(parts[0]):
                version = _number(parts[1])
                if version is not None:
                    found.setdefault(parts[0], set()).add(version)
        return {name: sorted(versions) for name, versions in sorted(found.items())}

    def names(self) -> list[str]:
        return list(self._scan())

    def versions(self, name: str) -> list[int]:
        found = set()
        for rel in self._find(self._model_path(name)):
            parts = rel.split("/")
            if len(parts) == 2 and parts[1] == MANIFEST_FILE and _number(parts[0]) is not None:
                found.add(int(parts[0]))
        return sorted(found)

    def list(self) -> list[dict[str, Any]]:
        out = []
        for name, versions in self._scan().items():
            try:
                pointed = int((self._read_latest(name) or "").strip())
            except ValueError:
                pointed = None
            latest = pointed if pointed in versions else versions[-1]
            out.append({"name": name, "latest_version": latest, "versions": versions})
        return out

    def _cat(self, path: str) -> bytes | None:
        try:
            return self.fs.cat_file(path)
        except FileNotFoundError:
            return None

    def _read_latest(self, name: str) -> str | None:
        data = self._cat(self._path(validate_model_name(name), LATEST_FILE))
        return None if data is None else data.decode(errors="replace")

    def _read_manifest(self, name: str, version: int) -> dict[str, Any]:
        key = (name, version)
        if key not in self._manifests:
            data = self._cat(self._path(validate_model_name(name), str(version), MANIFEST_FILE))
            if data is None:
                raise ModelNotFound(f"model {name!r} has no version {version}")
            self._manifests[key] = json.loads(data)
        return self._manifests[key]

    def report(self, name: str, version: int | str | None = None) -> dict[str, Any]:
        """The evaluation report of a version; ModelNotFound when it was trained without one."""
        version = self.resolve(name, version)
        data = self._cat(self._path(name, str(version), REPORT_FILE))
        if data is None:
            raise ModelNotFound(f"model {name!r} version {version} has no evaluation report")
        return json.loads(data)

    def synthesizer_path(self, name: str, version: int | str | None = None) -> Path:
        """A local copy whose sha256 matches the manifest: from the cache, else downloaded and checked."""
        version = self.resolve(name, version)
        sha256 = self._read_manifest(name, version).get("synthesizer_sha256")
        what = f"model {name!r} version {version}"
        try:
            path = self.cache.get(sha256)
        except ModelIntegrityError as exc:
            raise ModelIntegrityError(f"{what}: {exc}") from None
        if path is not None:
            return path
        try:
            return self.cache.fetch(self.fs, self._path(name, str(version), SYNTHESIZER_FILE), sha256, what)
        except FileNotFoundError:
            raise ModelIntegrityError(f"{what}: synthesizer file is missing") from None

    # --- writing ---------------------------------------------------------------------------
    def _claim(self, name: str) -> int:
        """A version number no one else has or had (see the module docstring)."""
        model = self._model_path(name)
        try:
            children = [p.rstrip("/").rsplit("/", 1)[-1] for p in self.fs.ls(model, detail=False)]
        except FileNotFoundError:
            children = []
        taken = [n for n in map(_number, children) if n is not None]
        taken.append(_number((self._cat(self._path(name, LAST_VERSION_FILE)) or b"").decode().strip()) or 0)
        claim = json.dumps({"host": socket.gethostname(), "pid": os.getpid(),
                            "claimed_at": datetime.now(timezone.utc).isoformat()}).encode()
        start = max(taken) + 1
        for version in range(start, start + 100):
            try:
                create(self.fs, self._path(name, str(version), CLAIM_FILE), claim)
                return version
            except FileExistsError:
                continue
        raise ModelStoreError(f"could not allocate a version for model {name!r}")

    def _check_conditional_writes(self) -> None:
        if self._conditional_writes_checked:
            return
        if not conditional_create_works(self.fs, self._path(".probe")):
            logger.warning("the model store %s ignores create-if-absent writes: two workers publishing the same "
                           "model at once could take the same version number", self.location)
        self._conditional_writes_checked = True

    def publish(self, name: str, staging: Path, manifest: dict[str, Any], make_latest: bool = True) -> int:
        """Upload a staged version (synthesizer.pkl, metadata.json, report.json); the manifest goes last."""
        validate_model_name(name)
        synth = staging / SYNTHESIZER_FILE
        if not synth.is_file():
            raise ModelStoreError("staged version has no synthesizer file")
        sha256 = sha256_file(synth)
        self._check_conditional_writes()
        version = self._claim(name)
        manifest = dict(manifest, name=name, version=version, synthesizer_sha256=sha256)
        folder = self._path(name, str(version))
        uploaded = []
        try:
            for file in sorted(staging.iterdir(), key=lambda p: p.name != SYNTHESIZER_FILE):
                if file.is_file() and file.name != MANIFEST_FILE:
                    uploaded.append(f"{folder}/{file.name}")
                    self.fs.put_file(str(file), uploaded[-1])
            create(self.fs, f"{folder}/{MANIFEST_FILE}",
                   json.dumps(manifest, indent=2, sort_keys=True, default=str).encode())
        except BaseException:
            if uploaded:  # no manifest: not a version; the .claim keeps the number taken
                self.fs.rm(uploaded)
            raise
        raise_to(self.fs, self._path(name, LAST_VERSION_FILE), version, self._s3)
        if make_latest:
            raise_to(self.fs, self._path(name, LATEST_FILE), version, self._s3)
        self._manifests[(name, version)] = manifest
        self.cache.keep(synth, sha256)  # this worker needn't download what it just wrote
        shutil.rmtree(staging, ignore_errors=True)
        return version

    def delete(self, name: str, version: int | str) -> None:
        version = self.resolve(name, version)
        folder = self._path(name, str(version))
        raise_to(self.fs, self._path(name, LAST_VERSION_FILE), version, self._s3)
        self.fs.rm_file(f"{folder}/{MANIFEST_FILE}")  # the version is gone from here on
        self._manifests.pop((name, version), None)
        rest = [f"{folder}/{rel}" for rel in self._find(folder) if rel != CLAIM_FILE]
        if rest:
            self.fs.rm(rest)  # the .claim stays: the number is never handed out again
        latest = self._path(name, LATEST_FILE)
        if not self.versions(name):
            if self.fs.exists(latest):
                self.fs.rm_file(latest)  # LAST_VERSION stays
        elif (self._read_latest(name) or "").strip() == str(version):
            # only a pointer naming the deleted version moves back; a newer publish's pointer stays
            self.fs.pipe_file(latest, str(self.latest(name)).encode())
