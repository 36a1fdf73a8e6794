"""Playwright's API for the journeys. Where it is not installed the journeys skip cleanly;
with RECTIFY_REQUIRE_BROWSER=1 (set by .ci/run) a missing Playwright is an error instead."""

import os

import pytest

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:
    if os.environ.get("RECTIFY_REQUIRE_BROWSER") == "1":
        raise
    pytest.skip("Playwright is not installed (pip install -e '.[dev]')", allow_module_level=True)

__all__ = ["expect", "sync_playwright"]
