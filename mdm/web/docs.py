"""An API docs page that works offline: Swagger UI served from the installed package."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, send_from_directory
from swagger_ui_bundle import swagger_ui_path

bp = Blueprint("docs", __name__)

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>MDM Hub API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true,
  persistAuthorization: true});
</script></body></html>
"""


@bp.get("/docs")
def page() -> Any:
    return Response(_PAGE, mimetype="text/html")


@bp.get("/docs/assets/<path:filename>")
def assets(filename: str) -> Any:
    return send_from_directory(swagger_ui_path, filename)
