"""Downloads: generated files and stored files, always as attachments that cannot run."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote

from flask import Response, send_file
from werkzeug.http import dump_options_header
from werkzeug.utils import get_content_type


def attachment(body: bytes | Iterable[bytes], mimetype: str, filename: str) -> Response:
    """A generated file (notice, ledger …) offered for download under `filename`; `body` may be
    an iterable of chunks, sent as they are made (wrap it in stream_with_context when they read
    the request or the database)."""
    # one charset: a text type names it once (werkzeug would append a second to a given one)
    response = Response(
        body, content_type=mimetype if "charset=" in mimetype else get_content_type(mimetype, "utf-8")
    )
    response.headers["Content-Disposition"] = dump_options_header(
        "attachment", {"filename*": f"UTF-8''{quote(filename)}"}
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def stored_file(stream, mimetype: str, filename: str, *, private: bool) -> Response:
    """A stored upload, sandboxed so that a browser never runs it; `private` ones uncached."""
    response = send_file(stream, mimetype=mimetype, as_attachment=True, download_name=filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    if private:
        response.headers["Cache-Control"] = "private, no-store"
    return response
