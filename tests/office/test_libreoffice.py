"""The notice (DOCX) and the ledger (XLSX) as an office sees them: opened in LibreOffice and
printed to PDF (headless), then read back with poppler (pdfinfo, pdftotext) and page 1 of
each drawn to test-artifacts/office/ to look at.

What is checked is what a printed page shows: the notice's page numbers (— 1 —, — 2 —) and its
signature block's date on the last page; the ledger's header row at the top of every page and
its page numbers. Locally the test skips when LibreOffice or poppler is missing; with
RECTIFY_REQUIRE_BROWSER=1 (CI) a missing one is a failure, as for the browser tests.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa

from portal.core.docx_layout import official_date
from portal.core.extensions import db
from portal.inspections.models import Inspection
from portal.ledger.operations import ledger_items, ledger_rows
from portal.ledger.xlsx import write_ledger
from portal.notices.export import build_notice, render_docx
from tests.notices.test_parser import NOTICE

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "office"
#: How long one conversion may take (LibreOffice's first start in a fresh profile is the slow part).
TIMEOUT = 120
TOOLS = {
    "soffice": "apt-get install -y libreoffice-writer-nogui libreoffice-calc-nogui",
    "pdfinfo": "apt-get install -y poppler-utils",
    "pdftotext": "apt-get install -y poppler-utils",
    "pdftoppm": "apt-get install -y poppler-utils",
}


@pytest.fixture
def tools() -> dict[str, str]:
    found = {name: shutil.which(name) for name in TOOLS}
    missing = [f"{name} not found ({TOOLS[name]})" for name, path in found.items() if not path]
    if missing:
        message = "; ".join(missing)
        if os.environ.get("RECTIFY_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return found


def to_pdf(tools: dict[str, str], files: list[Path], workdir: Path) -> None:
    """Print `files` to PDF next to them, with a LibreOffice profile of this test's own (so that
    runs side by side do not share one, which LibreOffice refuses)."""
    profile = workdir / "profile"
    subprocess.run(
        [
            tools["soffice"],
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
            str(workdir),
            *map(str, files),
        ],
        check=True,
        capture_output=True,
        timeout=TIMEOUT,
        env={**os.environ, "HOME": str(workdir)},
    )


def page_count(tools: dict[str, str], pdf: Path) -> int:
    info = subprocess.run([tools["pdfinfo"], str(pdf)], check=True, capture_output=True, text=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))


def page_text(tools: dict[str, str], pdf: Path, page: int) -> str:
    """The page's text without white space (pdftotext spaces "2026 年" and breaks lines)."""
    command = [tools["pdftotext"], "-f", str(page), "-l", str(page), str(pdf), "-"]
    text = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return re.sub(r"\s+", "", text)


def draw(tools: dict[str, str], pdf: Path, page: int, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    command = [tools["pdftoppm"], "-png", "-r", "80", "-f", str(page), "-l", str(page), "-singlefile"]
    subprocess.run([*command, str(pdf), str(ARTIFACTS / name)], check=True, timeout=TIMEOUT)


def test_the_notice_and_the_ledger_print_as_an_office_expects(app, runner, tools, tmp_path):
    from portal.core.timeutil import today

    assert runner.invoke(args=["notice", "import", str(NOTICE)]).exit_code == 0
    with app.app_context():
        inspection = db.session.scalar(sa.select(Inspection).where(Inspection.source_sha256.is_not(None)))
        notice = build_notice(inspection)
        rows = ledger_rows(inspection, ledger_items(inspection))
        (tmp_path / "notice.docx").write_bytes(render_docx(notice))
        (tmp_path / "ledger.xlsx").write_bytes(write_ledger(inspection.title, rows))
        dated = official_date(today())
    to_pdf(tools, [tmp_path / "notice.docx", tmp_path / "ledger.xlsx"], tmp_path)

    notice_pdf, ledger_pdf = tmp_path / "notice.pdf", tmp_path / "ledger.pdf"
    # drawn first, to look at when an assertion fails too
    draw(tools, notice_pdf, 1, "notice-page-1")
    draw(tools, notice_pdf, page_count(tools, notice_pdf), "notice-last-page")
    draw(tools, ledger_pdf, 1, "ledger-page-1")
    draw(tools, ledger_pdf, page_count(tools, ledger_pdf), "ledger-last-page")

    pages = page_count(tools, notice_pdf)
    assert pages >= 2  # the seed notice's fifteen problems take several pages
    for page in range(1, pages + 1):
        assert f"—{page}—" in page_text(tools, notice_pdf, page), f"notice page {page}"
    last = page_text(tools, notice_pdf, pages)
    assert notice.issuer in last and dated in last
    assert "关于巡察整改情况的通报" in page_text(tools, notice_pdf, 1)

    pages = page_count(tools, ledger_pdf)
    assert pages >= 2  # fifteen problems with their measures
    for page in range(1, pages + 1):
        text = page_text(tools, ledger_pdf, page)
        assert "整改措施" in text and "责任部门" in text, f"header row on ledger page {page}"
        assert f"第{page}页共{pages}页" in text, f"ledger page {page}"
