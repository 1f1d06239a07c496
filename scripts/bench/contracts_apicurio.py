"""Agreement of our JSON Schema engine with Apicurio Registry's compatibility test data.

Reads ../shared/datasets/apicurio-jsonschema/compatibility-test-data.json (relative to the
repository root's parent; not part of the repository) and prints agreement per direction.
Labels: "backward" = BACKWARD holds and FORWARD fails, "both" = both hold, "none" = neither.

The engine is run directly on the parsed schemas, without metaschema validation, because
several cases use draft-4 boolean `exclusiveMinimum` under a draft-07 `$schema` (which
`contracts check` would reject as invalid input); the count of such cases is printed too.

Disagreements we judge to be Apicurio's (reviewed case by case):

| case  | id    | label | ours          | why we differ                                        |
|-------|-------|-------|---------------|------------------------------------------------------|
| 96    | Const | none  | both hold     | `"type": "string"` with an array `const`: neither    |
|       |       |       |               | schema accepts any instance, so each reads the other |

Usage: .venv/bin/python scripts/bench/contracts_apicurio.py [--verbose]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from contracts.compatibility.document import SchemaDocument, dialect_of
from contracts.compatibility.jsonschema_diff import breaking, render_pointer, schema_findings
from contracts.compatibility.loader import load_contract
from contracts.errors import ContractError

DATA = (
    Path(__file__).resolve().parents[3]
    / "shared/datasets/apicurio-jsonschema/compatibility-test-data.json"
)
KNOWN_THEIRS = {96: "type string with an array const accepts nothing on either side"}


def reads(writer: object, reader: object) -> tuple[bool, list]:
    findings = schema_findings(
        SchemaDocument(writer, dialect_of(writer)), SchemaDocument(reader, dialect_of(reader))
    )
    return not breaking(findings), findings


def invalid(schema: object) -> bool:
    try:
        load_contract(schema, "jsonschema")
    except ContractError:
        return True
    return False


def main(verbose: bool = False) -> int:
    if not DATA.exists():
        print(f"Apicurio test data not found at {DATA}; nothing to measure.")
        return 0
    tests = [t for t in json.loads(DATA.read_text())["tests"] if t.get("enabled", True)]
    agree = {"backward": 0, "forward": 0}
    disagreements = []
    invalid_cases = 0
    for index, case in enumerate(tests):
        expected_backward = case["compatibility"] in ("backward", "both")
        expected_forward = case["compatibility"] == "both"
        backward, b_findings = reads(case["original"], case["updated"])
        forward, f_findings = reads(case["updated"], case["original"])
        agree["backward"] += backward == expected_backward
        agree["forward"] += forward == expected_forward
        invalid_cases += invalid(case["original"]) or invalid(case["updated"])
        if (backward, forward) != (expected_backward, expected_forward):
            disagreements.append((index, case, backward, forward, b_findings + f_findings))
    total = len(tests)
    for direction, count in agree.items():
        print(f"{direction:<9} agreement: {count}/{total} = {count / total:.1%}")
    print(f"cases invalid under their declared metaschema: {invalid_cases}")
    for index, case, backward, forward, findings in disagreements:
        note = KNOWN_THEIRS.get(index, "UNEXPLAINED")
        print(
            f"  #{index} {case['id']!r}: label={case['compatibility']} "
            f"ours backward={backward} forward={forward} — {note}"
        )
        if verbose:
            for finding in findings:
                print(f"      {finding.rule} {render_pointer(finding.path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main("--verbose" in sys.argv))
