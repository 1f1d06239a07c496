"""Migration 0009 on a database that holds history: provenance is rewritten compactly and
reads back unchanged; a downgrade copies referred states back into audit entries."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select, text

from mdm import migrate
from mdm.audit.models import AuditEntry
from mdm.db import make_engine
from mdm.records.models import GoldenRecord, GoldenVersion

PROVENANCE = {
    "name": {"rule": "most_frequent", "source_system": "SAP", "source_id": "1"},
    "city": {"rule": "steward_override", "actor": "alice", "reason": "office"},
    "street": {"rule": "longest", "source_system": "SAP", "source_id": "1"},
}
AT = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def test_upgrade_compacts_provenance_and_downgrade_restores_audit_copies(
        tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.sqlite3'}"
    migrate.upgrade(url, "0008_registry_references")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO golden_record (id, domain, status, version, attributes, provenance, "
            "quality_status, overrides, search_name, created_at, updated_at) VALUES "
            "('g1', 'supplier', 'active', 1, :a, :p, 'ok', '{}', 'acme', :t, :t)"),
            {"a": json.dumps({"name": "Acme"}), "p": json.dumps(PROVENANCE), "t": AT})
        conn.execute(text(
            "INSERT INTO golden_version (golden_id, version, status, attributes, provenance, "
            "valid_from, action, actor) VALUES ('g1', 1, 'active', :a, :p, :t, "
            "'golden.create', 'alice')"),
            {"a": json.dumps({"name": "Acme"}), "p": json.dumps(PROVENANCE), "t": AT})
    migrate.upgrade(url)
    with engine.begin() as conn:
        raw = conn.execute(text("SELECT provenance FROM golden_record")).scalar_one()
        assert json.loads(raw)[0] == "p1"
        assert conn.execute(select(GoldenRecord.provenance)).scalar_one() == PROVENANCE
        assert conn.execute(select(GoldenVersion.provenance)).scalar_one() == PROVENANCE
        # a version written now keeps its snapshot's fields; an entry refers to it
        conn.execute(text("UPDATE golden_version SET quality_status = 'ok'"))
        conn.execute(AuditEntry.__table__.insert(), [{
            "at": AT, "actor": "alice", "action": "golden.create", "entity_type": "golden_record",
            "entity_id": "g1", "domain": "supplier", "after": None, "after_version": 1}])
    migrate.downgrade(url, "0008_registry_references")
    with engine.begin() as conn:
        raw = conn.execute(text("SELECT provenance FROM golden_version")).scalar_one()
        assert json.loads(raw) == PROVENANCE
        after = conn.execute(text("SELECT after FROM audit_entry")).scalar_one()
        assert json.loads(after) == {
            "id": "g1", "domain": "supplier", "status": "active", "version": 1,
            "merged_into": None, "attributes": {"name": "Acme"}, "overrides": [],
            "quality_status": "ok", "updated_at": AT.isoformat()}
    engine.dispose()
