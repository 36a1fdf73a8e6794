"""Rectify (巡察整改督办平台). The application factory lives in `portal.app`."""

from __future__ import annotations


def create_app(config=None):
    """Create the app (see `portal.app.create_app`); imported late so that `portal` stays light."""
    from portal.app import create_app as factory

    return factory(config)
