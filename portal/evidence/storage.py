"""Where evidence files live: a directory outside static/, files named by random id."""

from __future__ import annotations

import errno
import hashlib
import os
import secrets
from pathlib import Path
from typing import BinaryIO

from flask_babel import gettext as _

from portal.core.errors import OperationError

CHUNK = 1024 * 1024


class StorageFull(OperationError):
    """The evidence volume has no room: the upload is refused, nothing is kept."""

    def __init__(self):
        super().__init__(
            _("The server has no room to store this file; it was not saved. Please tell the administrator.")
        )


class FileStore:
    """store / open / delete, by random key; the original name never touches the disk."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if not key.isalnum():  # keys are our own hex ids; anything else is a bug or an attack
            raise ValueError("invalid storage key")
        return self.root / key[:2] / key

    def store(self, stream: BinaryIO) -> tuple[str, str, int]:
        """Copy `stream` in; return (key, sha256, size). A full disk raises StorageFull and
        leaves no partial file."""
        key = secrets.token_hex(16)
        path = self._path(key)
        digest, size = hashlib.sha256(), 0
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "xb") as out:
                while chunk := stream.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
        except OSError as exc:
            path.unlink(missing_ok=True)
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise StorageFull() from exc
            raise
        return key, digest.hexdigest(), size

    def open(self, key: str) -> BinaryIO:
        return open(self._path(key), "rb")

    def sha256(self, key: str) -> str | None:
        """The SHA-256 of the stored file, or None when it is missing."""
        try:
            with self.open(key) as fh:
                return hashlib.file_digest(fh, "sha256").hexdigest()
        except FileNotFoundError:
            return None

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)
