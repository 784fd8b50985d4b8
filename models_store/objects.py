"""Writes on an object store that stay correct with several writers: create-if-absent and a forward-only pointer."""

from __future__ import annotations

import errno
import uuid


def create(fs, path: str, data: bytes) -> None:
    """Write path only if it does not exist, else FileExistsError (S3: If-None-Match: *; local: O_EXCL)."""
    if not data:
        raise ValueError("s3fs writes an empty object without the condition: give create() some bytes")
    with fs.open(path, "xb") as f:
        f.write(data)


def conditional_create_works(fs, folder: str) -> bool:
    """Whether the store refuses a second create of one object (some S3-compatible servers ignore the condition)."""
    probe = f"{folder}/{uuid.uuid4().hex}"
    create(fs, probe, b"1")
    try:
        create(fs, probe, b"2")
    except FileExistsError:
        return True
    finally:
        fs.rm_file(probe)
    return False


def _as_int(data: bytes | None) -> int:
    try:
        return int((data or b"").decode().strip())
    except ValueError:
        return 0


def raise_to(fs, path: str, value: int, s3: bool, attempts: int = 10) -> None:
    """Set the number at path to value unless it already holds a higher one.

    On S3 the write is conditional on the ETag read (If-Match), so two writers never move it backwards;
    elsewhere it is read-compare-write, and the last of two simultaneous writers wins.
    """
    for _ in range(attempts):
        try:
            if s3:
                with fs.open(path, "rb") as f:
                    etag, current = f.details["ETag"], _as_int(f.read())
            else:
                etag, current = None, _as_int(fs.cat_file(path))
        except FileNotFoundError:
            try:
                create(fs, path, str(value).encode())
                return
            except FileExistsError:
                continue  # another writer created it first: read theirs
        except OSError as exc:
            if exc.errno != errno.EBUSY:  # s3fs's FileExpired: it changed between reading its ETag and its bytes
                raise
            continue
        if current >= value:
            return
        try:
            fs.pipe_file(path, str(value).encode(), **({"IfMatch": etag} if s3 else {}))
            return
        except OSError as exc:
            if exc.errno != errno.EINVAL:  # s3fs reports a failed If-Match (412) as EINVAL
                raise
    raise OSError(errno.EAGAIN, f"{path}: too many concurrent writers")
