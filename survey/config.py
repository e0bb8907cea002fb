"""Configuration read from the environment, with safe defaults for a single-host install.

Every variable is documented in the README. Nothing here falls back to an insecure constant: the
secret key is generated once into the instance folder when the environment does not provide one.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

#: Interface languages with a translation catalog. The first is the default.
LANGUAGES = ("zh_Hant", "zh_Hans", "en")
#: The office's time zone unless CEPING_TIME_ZONE names another.
DEFAULT_TIME_ZONE = "Asia/Shanghai"


def _bool(value: str | None, default: bool = False) -> bool:
    """Read a boolean environment variable the way people write them."""
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load_secret_key(instance_path: Path) -> str:
    """Return SECRET_KEY from the environment, or from a file generated once in the instance folder.

    Several app servers must share one key (set SECRET_KEY for them); a single host keeps the
    generated file, so sessions survive restarts without anyone choosing a weak key by hand.
    """
    from_env = os.environ.get("SECRET_KEY")
    if from_env:
        return from_env
    instance_path.mkdir(parents=True, exist_ok=True)
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return key_file.read_text().strip()


def from_environment(instance_path: Path) -> dict[str, Any]:
    """Build the Flask configuration mapping from environment variables."""
    scheme = os.environ.get("PREFERRED_URL_SCHEME", "http")
    default_db = f"sqlite:///{instance_path / 'ceping.sqlite3'}"
    return {
        "DATABASE_URL": os.environ.get("DATABASE_URL", default_db),
        "PREFERRED_URL_SCHEME": scheme,
        #: Public address printed on slips and in minted-code files (the start page).
        "CEPING_BASE_URL": os.environ.get("CEPING_BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        #: Trust one reverse proxy's X-Forwarded-Proto/Host (gunicorn behind nginx).
        "CEPING_BEHIND_PROXY": _bool(os.environ.get("CEPING_BEHIND_PROXY")),
        "BABEL_DEFAULT_LOCALE": os.environ.get("CEPING_DEFAULT_LOCALE", LANGUAGES[0]),
        #: The office's time zone: audit times, printed dates, a survey's opening and closing
        #: times (all stored in UTC). An IANA name; checked by :func:`settle`.
        "TIME_ZONE": os.environ.get("CEPING_TIME_ZONE", DEFAULT_TIME_ZONE),
        #: The language of the command line's messages and refusals (zh_Hant, zh_Hans, en).
        "CLI_LANGUAGE": os.environ.get("CEPING_CLI_LANGUAGE", "en"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Secure cookies over plain HTTP would break every CSRF check, so follow the scheme.
        "SESSION_COOKIE_SECURE": scheme == "https",
        # Every page sends Referrer-Policy: no-referrer, so browsers send no Referer; Flask-WTF's
        # HTTPS referrer check would then refuse every form. The token and SameSite=Lax suffice.
        "WTF_CSRF_SSL_STRICT": False,
        "PERMANENT_SESSION_LIFETIME": int(os.environ.get("CEPING_SESSION_SECONDS", "28800")),
        #: A questionnaire left open longer than this must be restarted (CSRF token lifetime).
        "WTF_CSRF_TIME_LIMIT": int(os.environ.get("CEPING_FORM_SECONDS", "7200")),
        #: Unknown codes one client address may enter per 10 minutes before a 10-minute pause.
        "CEPING_CODE_ATTEMPTS": int(os.environ.get("CEPING_CODE_ATTEMPTS", "60")),
        "MAX_CONTENT_LENGTH": int(os.environ.get("CEPING_MAX_UPLOAD_BYTES", str(16 * 1024 * 1024))),
    }


def settle(config: MutableMapping[str, Any]) -> None:
    """Check the settings that must be right before the app serves anything, and derive the
    ones that follow from them; a wrong value stops the start with a message that names it."""
    name = config.get("TIME_ZONE") or ""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"CEPING_TIME_ZONE={name!r} is not a time zone: use an IANA name such as "
            "Asia/Shanghai, Asia/Hong_Kong or Asia/Taipei"
        ) from None
    # Flask-Babel's dates (the printed pages' header) follow the same zone.
    config["BABEL_DEFAULT_TIMEZONE"] = name
    if config.get("CLI_LANGUAGE") not in LANGUAGES:
        raise ValueError(
            f"CEPING_CLI_LANGUAGE={config.get('CLI_LANGUAGE')!r} is not one of Ceping's "
            f"languages: {', '.join(LANGUAGES)}"
        )


def time_zone(config: Mapping[str, Any]) -> ZoneInfo:
    """The office's time zone (``TIME_ZONE``, checked at start-up by :func:`settle`)."""
    return ZoneInfo(config.get("TIME_ZONE") or DEFAULT_TIME_ZONE)
