"""Evidence uploads: type checks, storage by random id, hashes, downloads, withdrawal."""

import io
import zipfile
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from portal.core.extensions import db
from portal.evidence.filetypes import content_matches
from portal.evidence.models import Evidence

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def docx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def upload(client, item_id, content: bytes, name: str, note: str = ""):
    return client.post_form(
        f"/items/{item_id}/evidence",
        {"file": (io.BytesIO(content), name), "note": note},
        content_type="multipart/form-data",
    )


def evidence_rows(app, item_id):
    with app.app_context():
        return db.session.scalars(
            sa.select(Evidence).where(Evidence.item_id == item_id, Evidence.storage_key.is_not(None))
        ).all()


@pytest.mark.parametrize(
    ("ext", "content", "ok"),
    [
        ("pdf", PDF, True),
        ("png", PNG, True),
        ("docx", docx_bytes(), True),
        ("pdf", b"<html><script>alert(1)</script></html>", False),
        ("docx", PDF, False),
        ("xlsx", docx_bytes(), False),
        ("jpg", PNG, False),
    ],
)
def test_content_must_match_the_extension(ext, content, ok):
    assert content_matches(ext, io.BytesIO(content)) is ok


def test_chinese_filename_round_trip_with_safe_headers(app, world, signed_in):
    item_id = world.new_item(state="in_progress")
    staff = signed_in("staff_resp")
    assert upload(staff, item_id, PDF, "整改报告.pdf", "第一批材料").status_code == 302
    [row] = evidence_rows(app, item_id)
    assert row.filename == "整改报告.pdf" and len(row.sha256) == 64 and row.size == len(PDF)
    stored = Path(app.config["EVIDENCE_DIR"]) / row.storage_key[:2] / row.storage_key
    assert stored.read_bytes() == PDF and "整改" not in str(stored)
    assert "static" not in str(stored)
    response = signed_in("auditor").get(f"/evidence/{row.id}/download")
    assert response.status_code == 200 and response.data == PDF
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment") and quote("整改报告.pdf") in disposition
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"<html><script>alert(1)</script></html>", "报告.pdf", "不是 .pdf 格式"),
        (b"", "空白.pdf", "为空"),
        (PDF, "脚本.html", "不接受此类型的文件"),
        (PDF, "没有扩展名", "不接受此类型的文件"),
    ],
)
def test_bad_uploads_are_refused_with_a_message(app, world, signed_in, content, name, message):
    item_id = world.new_item(state="in_progress")
    staff = signed_in("staff_resp")
    response = upload(staff, item_id, content, name)
    assert response.status_code == 400 and message in response.text
    assert evidence_rows(app, item_id) == []


def test_path_traversal_names_are_reduced_to_a_name(app, world, signed_in):
    item_id = world.new_item(state="in_progress")
    upload(signed_in("staff_resp"), item_id, PDF, "../../etc/整改报告.pdf")
    [row] = evidence_rows(app, item_id)
    assert row.filename == "整改报告.pdf"


def test_oversize_upload_gets_the_413_page(app, world, signed_in):
    app.config["MAX_CONTENT_LENGTH"] = 2048
    item_id = world.new_item(state="in_progress")
    response = upload(signed_in("staff_resp"), item_id, PDF + b"0" * 4096, "大文件.pdf")
    assert response.status_code == 413 and "文件过大" in response.text
    assert evidence_rows(app, item_id) == []


def test_corrupted_file_is_reported_not_served(app, world, signed_in):
    item_id = world.new_item(state="in_progress")
    upload(signed_in("staff_resp"), item_id, PDF, "整改报告.pdf")
    [row] = evidence_rows(app, item_id)
    stored = Path(app.config["EVIDENCE_DIR"]) / row.storage_key[:2] / row.storage_key
    stored.write_bytes(PDF.replace(b"1.4", b"1.7"))
    response = signed_in("office").get(f"/evidence/{row.id}/download")
    assert response.status_code == 409 and b"%PDF" not in response.data


def test_withdrawal_before_submission_only_and_kept_in_history(app, world, signed_in):
    item_id = world.new_item(state="in_progress")
    staff = signed_in("staff_resp")
    upload(staff, item_id, PDF, "初稿.pdf")
    [row] = evidence_rows(app, item_id)
    assert staff.post_form(f"/evidence/{row.id}/withdraw").status_code == 302
    page = staff.get(f"/items/{item_id}").text
    assert 'data-kind="evidence_withdrawn"' in page and "初稿.pdf" in page
    submitted = world.new_item(state="pending_review")
    with app.app_context():
        piece = db.session.scalar(sa.select(Evidence.id).where(Evidence.item_id == submitted))
    # Nobody holds `work` on a submitted item, so the web refuses outright...
    assert staff.post_form(f"/evidence/{piece}/withdraw").status_code == 403
    assert "撤回</button>" not in staff.get(f"/items/{submitted}").text
    # ...and the operation itself refuses too, with a message, whoever calls it.
    from portal.audit.chain import Actor
    from portal.core.errors import OperationError
    from portal.evidence.operations import withdraw_evidence
    from portal.inspections.models import RectificationItem

    with app.app_context():
        evidence = db.session.get(Evidence, piece)
        with pytest.raises(OperationError, match="submitted"):
            withdraw_evidence(Actor.system("test"), evidence, db.session.get(RectificationItem, submitted))
        db.session.rollback()
        assert db.session.get(Evidence, piece).withdrawn_at is None


def test_evidence_of_items_not_shared_is_404(app, world, signed_in):
    item_id = world.new_item(state="in_progress")
    upload(signed_in("staff_resp"), item_id, PDF, "整改报告.pdf")
    [row] = evidence_rows(app, item_id)
    other = signed_in("staff_other")
    assert other.get(f"/evidence/{row.id}/download").status_code == 404
    assert other.post_form(f"/evidence/{row.id}/withdraw").status_code == 404
    assert upload(other, item_id, PDF, "x.pdf").status_code == 404
    assert signed_in("auditor").post_form(f"/items/{item_id}/evidence", {"note": "x"}).status_code == 403


def test_refused_upload_keeps_the_note_and_links_are_safe(app, world, signed_in):
    item_id = world.new_item(state="in_progress")
    staff = signed_in("staff_resp")
    response = upload(staff, item_id, b"<html></html>", "报告.pdf", "会议纪要见 https://example.cn/a?b=1")
    assert response.status_code == 400
    assert "会议纪要见 https://example.cn/a?b=1</textarea>" in response.text
    staff.post_form(
        f"/items/{item_id}/evidence",
        {"note": 'https://example.cn/x" onmouseover="alert(1) 与 <script>x</script>'},
    )
    page = staff.get(f"/items/{item_id}").text
    assert '<a href="https://example.cn/x" rel="noopener noreferrer nofollow"' in page
    assert 'onmouseover="alert' not in page  # the quote ended the address, and was escaped
    assert "<script>x</script>" not in page and "&lt;script&gt;x&lt;/script&gt;" in page
    assert 'rel="noopener noreferrer nofollow"' in page


@pytest.fixture
def tiny_volume(app, tmp_path):
    """EVIDENCE_DIR on a 64 KiB filesystem (tmpfs, where this machine lets the tests mount one;
    elsewhere a store whose writes fail as a full disk's do, after writing part of the file)."""
    import errno
    import subprocess

    mount = tmp_path / "tiny"
    mount.mkdir()
    try:
        command = ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)]
        mounted = subprocess.run(command, capture_output=True).returncode == 0  # noqa: S603
    except OSError:  # no mount command here
        mounted = False
    app.config["EVIDENCE_DIR"] = str(mount)
    if mounted:
        yield mount
        subprocess.run(["umount", str(mount)], check=True)  # noqa: S603, S607
        return
    from portal.evidence import storage

    real_open = open

    class FullFile:
        def __init__(self, path, mode):
            self._file, self._written = real_open(path, mode), 0

        def write(self, data):
            if self._written + len(data) > 64 * 1024:
                raise OSError(errno.ENOSPC, "No space left on device")
            self._written += len(data)
            return self._file.write(data)

        def __getattr__(self, name):
            return getattr(self._file, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self._file.close()

    storage.open = FullFile
    try:
        yield mount
    finally:
        del storage.open


def test_a_full_evidence_disk_refuses_the_upload_and_keeps_nothing(app, world, signed_in, tiny_volume):
    item_id = world.new_item(state="in_progress")
    staff = signed_in("staff_resp")
    big = PDF + b"%" + b"x" * (200 * 1024) + b"\n"
    response = upload(staff, item_id, big, "整改报告.pdf", note="第一份报告")
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "服务器存储空间已满，文件未保存" in text and "第一份报告" in text  # said, and the note kept
    assert evidence_rows(app, item_id) == []
    assert [p for p in tiny_volume.rglob("*") if p.is_file()] == []  # no partial file
    # room for a small one: the next upload works
    assert upload(staff, item_id, PDF, "小文件.pdf").status_code == 302
    (row,) = evidence_rows(app, item_id)
    assert (tiny_volume / row.storage_key[:2] / row.storage_key).read_bytes() == PDF


def test_a_stored_file_whose_row_is_not_kept_is_removed(app, world):
    from portal.audit.chain import Actor
    from portal.evidence.operations import add_evidence_file
    from portal.evidence.storage import FileStore
    from portal.inspections.models import RectificationItem

    item_id = world.new_item(state="in_progress")
    root = Path(app.config["EVIDENCE_DIR"])
    with app.app_context():
        item = db.session.get(RectificationItem, item_id)
        evidence = add_evidence_file(
            Actor.system("test"), item, FileStore(root), io.BytesIO(PDF), "a.pdf", ("pdf",)
        )
        path = root / evidence.storage_key[:2] / evidence.storage_key
        assert path.read_bytes() == PDF
        db.session.rollback()  # the transaction fails after the file was stored
        assert not path.exists()
        kept = add_evidence_file(
            Actor.system("test"), item, FileStore(root), io.BytesIO(PDF), "b.pdf", ("pdf",)
        )
        db.session.commit()
        assert (root / kept.storage_key[:2] / kept.storage_key).exists()  # a committed one stays
