"""Locale selection: Simplified Chinese by default, English when the user asks for it."""

from __future__ import annotations

from flask import current_app, request, session


def select_locale() -> str:
    """The session's chosen language, else `?lang=`, else the default (zh)."""
    languages = current_app.config["LANGUAGES"]
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    asked = request.args.get("lang")
    if asked in languages:
        return asked
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def html_lang(locale: str) -> str:
    return "zh-CN" if locale.startswith("zh") else locale
