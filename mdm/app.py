"""The application factory: ``gunicorn "mdm.app:create_app()"``."""
from __future__ import annotations

from typing import Any

from flask import Flask, g
from flask.json.provider import DefaultJSONProvider

from mdm.config import Config
from mdm.db import db
from mdm.domains.registry import load_registry
from mdm.web import errors, observability

API_SPEC_OPTIONS: dict[str, Any] = {
    "info": {
        "description": "Master data management and data-contract governance hub for finance "
        "systems. Authenticate with `Authorization: Bearer <key>` or `X-API-Key: <key>`.",
    },
    "components": {
        "securitySchemes": {
            "ApiKeyAuth": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            "BearerAuth": {"type": "http", "scheme": "bearer"},
        }
    },
    "security": [{"ApiKeyAuth": []}, {"BearerAuth": []}],
}


class JSONProvider(DefaultJSONProvider):
    sort_keys = False


def create_app(config: Config | None = None) -> Flask:
    cfg = config or Config.from_env()
    app = Flask(__name__)
    app.json = JSONProvider(app)
    app.config.update(
        MDM=cfg,
        TESTING=cfg.testing,
        API_TITLE="MDM Hub",
        API_VERSION="1.0.0",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS=API_SPEC_OPTIONS,
        MAX_CONTENT_LENGTH=64 * 1024 * 1024,
    )
    observability.configure_logging(cfg.log_level)
    db.init_app(app)
    app.extensions["mdm_domains"] = load_registry(cfg.domains_path)

    api = errors.MdmApi(app)
    errors.register_error_handlers(app)
    observability.init_app(app)

    from mdm.audit.api import blp as audit_blp
    from mdm.auth.api import blp as keys_blp
    from mdm.crosswalks.api import blp as crosswalk_blp
    from mdm.domains.api import blp as domains_blp
    from mdm.events.api import blp as changes_blp
    from mdm.records.api import blp as records_blp
    from mdm.sources.api import blp as sources_blp
    from mdm.web.docs import bp as docs_bp
    from mdm.web.health import blp as health_blp

    for blp in (health_blp, domains_blp, sources_blp, records_blp, crosswalk_blp, audit_blp,
                changes_blp, keys_blp):
        api.register_blueprint(blp)
    app.register_blueprint(docs_bp)

    @app.after_request
    def _etag(response: Any) -> Any:
        etag = g.get("etag")
        if etag:
            response.headers["ETag"] = etag
        return response

    from mdm.cli import register_commands

    register_commands(app)
    return app
