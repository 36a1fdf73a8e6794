"""The text of an uploaded notice file: .txt, .docx or .pdf with a text layer. Pure Python.

`notice_text(data, filename)` returns the text the parser reads, or raises `NoticeFormatError`
with an English message and a `code` the interface translates (portal.notices.messages,
INPUT_ERRORS): `unsupported` (another type: .doc, .wps, images …), `empty`, `binary` and
`encoding` (a .txt that is no UTF-8 or GB18030 text), `no_text_layer` (a scanned PDF) and
`unreadable` (a damaged or protected .docx or .pdf).
"""

from __future__ import annotations

import io
import logging
import re
import unicodedata
import zipfile
from pathlib import PurePath

from portal.notices.text import NoticeInputError, decode

SUPPORTED = (".txt", ".docx", ".pdf")
MAX_PDF_PAGES = 300
W_NS = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
# A line that starts a new paragraph of a notice (heading, numbered problem, measure, status).
PARAGRAPH_START = re.compile(
    r"^(?:[一二三四五六七八九十]+[、是]|[(（][一二三四五六七八九十\d]+[)）]|\d{1,3}[.、．]|整改)"
)
SENTENCE_END = "。！？!?:：;；”」)）"
PAGE_NUMBER = re.compile(
    r"^[\-—–\s]*(?:第\s*\d{1,4}\s*页(?:\s*[/,，]?\s*共\s*\d{1,4}\s*页)?|\d{1,3})[\-—–\s]*$"
)


class NoticeFormatError(NoticeInputError):
    """The file gives no text the parser can read; `code` says why (see the module's doc)."""


def notice_text(data: bytes, filename: str) -> str:
    """The notice's text from the bytes of a file named `filename` (its extension decides; a
    file without one is taken as what its first bytes say it is)."""
    suffix = PurePath(filename or "").suffix.lower()
    is_pdf = b"%PDF-" in data[:1024]
    is_zip = zipfile.is_zipfile(io.BytesIO(data))
    if not suffix:
        suffix = ".pdf" if is_pdf else (".docx" if is_zip else ".txt")
    elif (suffix == ".pdf" and not is_pdf) or (suffix == ".docx" and not is_zip):
        suffix = ".txt"  # not what its name says: text if it is text, else refused as binary
    if suffix == ".txt":
        try:
            return decode(data)
        except NoticeInputError as exc:
            raise NoticeFormatError(exc.code, str(exc)) from exc
    if suffix not in SUPPORTED:
        hint = " (save it as .docx)" if suffix in (".doc", ".wps", ".rtf") else ""
        raise NoticeFormatError(
            "unsupported", f"{suffix} files cannot be read{hint}; upload the notice as .txt, .docx or .pdf"
        )
    if not data or not data.strip():
        raise NoticeFormatError("empty", "the file is empty")
    text = docx_text(data) if suffix == ".docx" else pdf_text(data)
    if not text.strip():
        if suffix == ".pdf":
            raise NoticeFormatError(
                "no_text_layer", "the PDF has no text layer (a scan?); no text was found in it"
            )
        raise NoticeFormatError("empty", "the document has no text")
    return text


# --- .docx ------------------------------------------------------------------------------------


def docx_text(data: bytes) -> str:
    """The paragraphs of a .docx in document order, one a line; a table row is one line, its
    cells separated by spaces."""
    from docx import Document  # python-docx: only when a .docx comes

    try:
        document = Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise NoticeFormatError("unreadable", f"the .docx file cannot be opened: {exc}") from exc
    except Exception as exc:  # noqa: BLE001 - lxml and python-docx raise their own errors on damaged files
        raise NoticeFormatError("unreadable", f"the .docx file cannot be read: {exc}") from exc
    lines: list[str] = []
    for block in document.element.body.iterchildren():
        if block.tag == f"{W_NS}p":
            lines.append(_docx_paragraph(block))
        elif block.tag == f"{W_NS}tbl":
            for row in block.iter(f"{W_NS}tr"):
                cells = []
                for cell in row.iter(f"{W_NS}tc"):
                    value = " ".join(_docx_paragraph(p) for p in cell.iter(f"{W_NS}p")).strip()
                    if value and (not cells or cells[-1] != value):  # merged cells repeat
                        cells.append(value)
                lines.append(" ".join(cells))
    return "\n".join(lines).strip("\n")


def _docx_paragraph(paragraph) -> str:
    parts = []
    for node in paragraph.iter(f"{W_NS}t", f"{W_NS}tab", f"{W_NS}br"):
        if node.tag == f"{W_NS}t":
            parts.append(node.text or "")
        else:
            parts.append(" " if node.tag == f"{W_NS}tab" else "\n")
    return "".join(parts)


# --- .pdf -------------------------------------------------------------------------------------


def pdf_text(data: bytes) -> str:
    """The text layer of a PDF, page after page, with the lines a paragraph was wrapped into
    joined again (a line as wide as the page's widest, not ending a sentence, goes on in the
    next unless that one starts a heading, a problem or a measure)."""
    from pypdf import PdfReader  # pypdf: only when a PDF comes
    from pypdf.errors import PyPdfError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # damaged files make it chatty
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise NoticeFormatError("unreadable", "the PDF is protected by a password")
        pages = reader.pages[:MAX_PDF_PAGES]
        texts = [page.extract_text() or "" for page in pages]
    except NoticeFormatError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        raise NoticeFormatError("unreadable", f"the PDF cannot be read: {exc}") from exc
    except Exception as exc:  # noqa: BLE001 - a damaged PDF can fail anywhere in the reader
        raise NoticeFormatError("unreadable", f"the PDF cannot be read: {exc!r}") from exc
    # Page numbers out, so that a paragraph going on over the page break is joined too.
    lines = [
        line for text in texts for line in text.split("\n") if line.strip() and not PAGE_NUMBER.match(line)
    ]
    return _unwrap(lines).strip("\n")


def _width(line: str) -> int:
    """How wide `line` prints: a Chinese, full-width or ambiguous (“”) character counts two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WFA" else 1 for ch in line.strip())


def _unwrap(lines: list[str]) -> str:
    lines = [line.rstrip() for line in lines]
    widest = max((_width(line) for line in lines), default=0)
    out: list[str] = []
    previous = ""  # the last line as printed (out[-1] may hold several)
    for line in lines:
        if (
            out
            and widest >= 30
            and _width(previous) >= 0.9 * widest
            and not previous.endswith(tuple(SENTENCE_END))
            and line.strip()
            and not PARAGRAPH_START.match(line.strip())
        ):
            out[-1] += line.strip()
        else:
            out.append(line)
        previous = line
    return "\n".join(out)
