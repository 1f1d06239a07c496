"""The hub's flask-smorest Blueprint: its arguments come from the body mdm.web.guard parsed."""
from __future__ import annotations

import flask_smorest

from mdm.web.guard import HubParser


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = HubParser()
