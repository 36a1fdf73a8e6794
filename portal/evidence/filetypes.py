"""Extension and content must agree: a file is accepted only when its bytes are what its name says.

A renamed HTML page (the classic stored-XSS upload) has no PDF, Office, image or ZIP signature
and is refused whatever its name.
"""

from __future__ import annotations

import zipfile
from typing import BinaryIO

OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP = b"PK\x03\x04"

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "ofd": "application/ofd",
    "zip": "application/zip",
}


def extension(filename: str) -> str:
    return filename.rsplit(".", 1)[-1].lower() if "." in filename else ""


def _zip_names(stream: BinaryIO) -> list[str] | None:
    try:
        with zipfile.ZipFile(stream) as archive:
            return archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return None


def content_matches(ext: str, stream: BinaryIO) -> bool:
    """Does the content of `stream` look like a file of type `ext`? Rewinds the stream."""
    stream.seek(0)
    head = stream.read(16)
    stream.seek(0)
    try:
        if ext == "pdf":
            return head.startswith(b"%PDF-")
        if ext in ("doc", "xls"):
            return head.startswith(OLE2)
        if ext in ("jpg", "jpeg"):
            return head.startswith(b"\xff\xd8\xff")
        if ext == "png":
            return head.startswith(b"\x89PNG\r\n\x1a\n")
        if ext in ("docx", "xlsx", "ofd", "zip"):
            if not head.startswith(ZIP):
                return False
            names = _zip_names(stream)
            if names is None:
                return False
            marker = {"docx": "word/", "xlsx": "xl/", "ofd": "OFD.xml"}.get(ext)
            return marker is None or any(n.startswith(marker) for n in names)
        return False
    finally:
        stream.seek(0)
