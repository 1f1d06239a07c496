"""The application factory: ``gunicorn "mdm.app:create_app()"``."""
from __future__ import annotations

from decimal import Decimal
from functools import partial
from typing import Any
from uuid import UUID

import orjson
from flask import Flask, g
from flask.json.provider import DefaultJSONProvider

from mdm import __version__
from mdm.cli import register_commands
from mdm.config import Config
from mdm.db import db
from mdm.domains.registry import load_registry
from mdm.web import errors, guard, observability

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
    """orjson for request and response bodies: bulk calls carry thousands of records."""

    sort_keys = False

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return orjson.dumps(obj, default=_fallback, option=orjson.OPT_NON_STR_KEYS).decode()

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return orjson.loads(s)


def _fallback(value: Any) -> Any:
    if isinstance(value, (Decimal, UUID)):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def create_app(config: Config | None = None, *, http: bool = True) -> Flask:
    """The hub's app. ``http=False`` is the command line's: the same configuration,
    database, domains, matching and commands, but the HTTP side (blueprints, OpenAPI
    document, error pages, metrics) is mounted only when a command asks for it
    (``mount_http``, e.g. ``mdm contracts bootstrap`` registers the OpenAPI document).
    Building the document and importing every view cost more than a small load itself."""
    cfg = config or Config.from_env()
    app = Flask(__name__)
    app.json = JSONProvider(app)
    app.config.update(
        MDM=cfg,
        TESTING=cfg.testing,
        API_TITLE="MDM Hub",
        API_VERSION=__version__,  # the package metadata's, as `mdm --version` says
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS=API_SPEC_OPTIONS,
    )
    guard.init_app(app)  # limits and the int path converter, before any blueprint
    observability.configure_logging(cfg.log_level)
    db.init_app(app)
    app.extensions["mdm_domains"] = load_registry(cfg.domains_path)
    from mdm.matching.linker import install as install_matching

    install_matching(app)  # ingestion matches each new record (incremental matching)
    if http:
        mount_http(app)
    else:
        app.extensions[HTTP_MOUNT] = partial(mount_http, app)

    register_commands(app, rooms=http)  # the command line imports the others' when used
    return app


HTTP_MOUNT = "mdm_mount_http"  # a command-line app's way to mount its HTTP side on demand


def http_mounted(app: Flask) -> Flask:
    """``app`` with its HTTP side: a command-line app mounts it now (once)."""
    mount = app.extensions.get(HTTP_MOUNT)
    if mount is not None:
        mount()
    return app


def mount_http(app: Flask) -> None:
    """Blueprints, the OpenAPI document, error handlers and request hooks (once per app)."""
    app.extensions.pop(HTTP_MOUNT, None)
    api = errors.MdmApi(app)
    errors.register_error_handlers(app)
    observability.init_app(app)

    from mdm.audit.api import blp as audit_blp
    from mdm.crosswalks.api import blp as crosswalk_blp
    from mdm.domains.api import blp as domains_blp
    from mdm.events.api import blp as changes_blp
    from mdm.hierarchies.api import blp as hierarchies_blp
    from mdm.matching.api import blp as matching_blp
    from mdm.publication.api import blp as publication_blp
    from mdm.records.api import blp as records_blp
    from mdm.sources.api import blp as sources_blp
    from mdm.stewardship.api import blp as stewardship_blp
    from mdm.web.docs import bp as docs_bp
    from mdm.web.health import blp as health_blp
    from mdm.web.keys import blp as keys_blp

    for blp in (health_blp, domains_blp, sources_blp, records_blp, crosswalk_blp, audit_blp,
                changes_blp, keys_blp, publication_blp, hierarchies_blp, stewardship_blp,
                matching_blp):
        api.register_blueprint(blp)
    app.register_blueprint(docs_bp)
    from mdm.contract_registry.wiring import init_app as init_contract_registry

    init_contract_registry(app, api)  # /contracts (native) and the Confluent-compatible API

    @app.after_request
    def _etag(response: Any) -> Any:
        etag = g.get("etag")
        if etag:
            response.headers["ETag"] = etag
        return response
