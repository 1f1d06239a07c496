"""Domain definitions: which master data the hub manages and how."""
from mdm.domains.definitions import Attribute, DefinitionError, DomainDefinition
from mdm.domains.registry import DomainRegistry, load_registry

__all__ = ["Attribute", "DefinitionError", "DomainDefinition", "DomainRegistry", "load_registry"]
