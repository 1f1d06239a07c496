"""Imports every models module so that ``Base.metadata`` describes the whole database.

Alembic's env.py and the test suite import this; the application never calls create_all.
"""
from contracts.registry.models import metadata as registry_metadata
from mdm.audit import models as audit_models  # noqa: F401
from mdm.auth import models as auth_models  # noqa: F401
from mdm.db import Base
from mdm.events import models as event_models  # noqa: F401
from mdm.hierarchies import models as hierarchy_models  # noqa: F401
from mdm.matching import models as matching_models  # noqa: F401
from mdm.publication import models as publication_models  # noqa: F401
from mdm.records import models as record_models  # noqa: F401
from mdm.sources import models as source_models  # noqa: F401
from mdm.stewardship import models as stewardship_models  # noqa: F401

metadata = Base.metadata
# Every metadata the one Alembic environment manages: the hub's and the contract registry's.
all_metadata = [metadata, registry_metadata]
