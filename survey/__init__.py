"""Ceping: anonymous evaluation campaigns for organisations with many branches.

:func:`create_app` is the only way to build the application; ``wsgi.py`` holds the only
module-level app. Nothing here touches the database at import time.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import import_module
from pathlib import Path
from typing import Any

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask app: configuration, extensions, blueprints, CLI and error pages."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        instance_path=str(ROOT / "instance"),
        instance_relative_config=True,
    )
    from survey import config as settings

    app.config.update(settings.from_environment(Path(app.instance_path)))
    if config:
        app.config.update(config)
    settings.settle(app.config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = settings.load_secret_key(Path(app.instance_path))
    if app.config["CEPING_BEHIND_PROXY"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1, x_host=1)

    from survey import errors, i18n, security, templating
    from survey.db import db
    from survey.extensions import csrf

    db.init_app(app)
    security.init_app(app)  # its input check runs before the CSRF check
    csrf.init_app(app)
    i18n.init_app(app)
    errors.init_app(app)
    templating.init_app(app)

    from survey.auth import access

    access.init_app(app)

    for area in ("respond", "auth", "results", "manage", "rectify", "api"):
        package = import_module(f"survey.{area}")
        import_module(f"survey.{area}.routes")  # attaches the views to the area's blueprint
        app.register_blueprint(package.bp)

    from survey import assets, cli

    assets.init_app(app)
    cli.init_app(app)
    return app
