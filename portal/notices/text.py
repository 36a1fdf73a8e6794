"""Decoding uploaded notice files and normalising their punctuation (pure Python)."""

from __future__ import annotations

import re
import unicodedata


class NoticeInputError(ValueError):
    """The input is not text the parser can read; `code` is empty, binary or encoding."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def decode(data: bytes) -> str:
    """Decode UTF-8 (with or without BOM) or GB18030; refuse empty, binary or other input."""
    if not data or not data.strip():
        raise NoticeInputError("empty", "the file is empty")
    if b"\x00" in data[:4096]:
        raise NoticeInputError("binary", "the file is binary, not text (save the notice as .txt)")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        controls = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\r\n\t")
        if controls > max(3, len(text) // 100):
            raise NoticeInputError("binary", "the file is binary, not text (save the notice as .txt)")
        return text
    raise NoticeInputError("encoding", "the text is neither UTF-8 nor GB18030")


def normalise_source(text: str) -> str:
    """The text a notice is identified by: the same notice always gives the same string.

    CRLF and CR become LF (browsers send a textarea back with CRLF; Windows files have it),
    NFKC folds full-width letters, digits and punctuation into their ordinary forms, and
    whitespace is trimmed at the end of every line and around the whole text. The stored
    SHA-256 (and so the duplicate check) is taken over this; the stored text stays as uploaded.

    Migration 0009_notice_previews holds a frozen copy that rehashes existing imports: change
    this only together with a migration that rehashes them again.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = unicodedata.normalize("NFKC", text)
    return "\n".join(line.rstrip() for line in text.split("\n")).strip()


_FULLWIDTH = str.maketrans(
    {"（": "(", "）": ")", "，": ",", "：": ":", "；": ";", "．": ".", "、": "、", "\u3000": " ", "\xa0": " "}
)


def normalise(line: str) -> str:
    """Unify full-width and ASCII brackets, commas, colons and semicolons; trim spaces."""
    line = unicodedata.normalize("NFKC", line) if any("０" <= c <= "９" for c in line) else line
    return re.sub(r"[ \t]+", " ", line.translate(_FULLWIDTH)).strip()
