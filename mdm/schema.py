"""Imports every models module so that ``Base.metadata`` describes the whole database.

Alembic's env.py and the test suite import this; the application never calls create_all.
"""
from contracts.registry.models import metadata as registry_metadata
from mdm.audit import models as audit_models
from mdm.auth import models as auth_models
from mdm.db import Base
from mdm.events import models as event_models
from mdm.hierarchies import models as hierarchy_models
from mdm.matching import models as matching_models
from mdm.publication import models as publication_models
from mdm.records import models as record_models
from mdm.sources import models as source_models
from mdm.stewardship import models as stewardship_models

# Importing each models module is what registers its tables; naming them here says so.
MODEL_MODULES = (audit_models, auth_models, event_models, hierarchy_models, matching_models,
                 publication_models, record_models, source_models, stewardship_models)
metadata = Base.metadata
# Every metadata the one Alembic environment manages: the hub's and the contract registry's.
all_metadata = [metadata, registry_metadata]
