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


_FULLWIDTH = str.maketrans(
    {"（": "(", "）": ")", "，": ",", "：": ":", "；": ";", "．": ".", "、": "、", "\u3000": " ", "\xa0": " "}
)


def normalise(line: str) -> str:
    """Unify full-width and ASCII brackets, commas, colons and semicolons; trim spaces."""
    line = unicodedata.normalize("NFKC", line) if any("０" <= c <= "９" for c in line) else line
    return re.sub(r"[ \t]+", " ", line.translate(_FULLWIDTH)).strip()
