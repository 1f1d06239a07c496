"""Imports every models module so that ``Base.metadata`` describes the whole database.

Alembic's env.py and the test suite import this; the application never calls create_all.
"""
from mdm.audit import models as audit_models  # noqa: F401
from mdm.auth import models as auth_models  # noqa: F401
from mdm.db import Base
from mdm.events import models as event_models  # noqa: F401
from mdm.records import models as record_models  # noqa: F401
from mdm.sources import models as source_models  # noqa: F401

metadata = Base.metadata
