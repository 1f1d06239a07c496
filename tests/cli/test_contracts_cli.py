"""The `contracts` CLI end to end on temp files: exit codes, output formats, waivers."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from contracts.cli import main

OLD = {"type": "object", "properties": {"amount": {"type": "number"}}}
NARROWED = {"type": "object", "properties": {"amount": {"type": "integer"}}}
WIDENED = {"type": "object", "properties": {"amount": {"type": ["number", "null"]}}}


@pytest.fixture()
def files(tmp_path: Path):
    def write(name: str, content) -> str:
        path = tmp_path / name
        path.write_text(content if isinstance(content, str) else json.dumps(content))
        return str(path)

    return write


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_compatible_exits_0(files, capsys):
    code, out, _ = run(capsys, "check", files("old.json", OLD), files("new.json", WIDENED))
    assert code == 0 and "compatible" in out


def test_incompatible_exits_1_and_names_the_rule(files, capsys):
    code, out, _ = run(capsys, "check", files("old.json", OLD), files("new.json", NARROWED))
    assert code == 1 and "TYPE_NARROWED" in out


def test_mode_option(files, capsys):
    old, new = files("old.json", OLD), files("new.json", NARROWED)
    assert run(capsys, "check", old, new, "--mode", "FORWARD")[0] == 0
    assert run(capsys, "check", old, new, "--mode", "none")[0] == 0


@pytest.mark.parametrize(
    "content",
    ["{broken", '{"type": "strin"}', '{"type": "object", "properties": {"a": {"$ref": "#/nope"}}}'],
)
def test_invalid_input_exits_2_with_one_line_reason(files, capsys, content):
    code, out, err = run(capsys, "check", files("old.json", OLD), files("new.json", content))
    assert code == 2
    assert err.startswith("contracts: error:") and err.count("\n") == 1
    assert "Traceback" not in err


def test_missing_file_exits_2(files, capsys):
    code, _, err = run(capsys, "check", files("old.json", OLD), "/nonexistent/new.json")
    assert code == 2 and "cannot read" in err


def test_json_output_shape(files, capsys):
    code, out, _ = run(
        capsys, "check", files("o.json", OLD), files("n.yaml", NARROWED), "--output", "json"
    )
    data = json.loads(out)
    assert code == 1
    assert {"schema_version", "kind", "compatible", "mode", "summary", "changes"} <= set(data)
    assert (data["schema_version"], data["kind"]) == (1, "check")
    assert data["compatible"] is False and data["mode"] == "BACKWARD"
    change = data["changes"][0]
    assert {"rule", "level", "path", "message"} <= set(change)
    assert change["path"] == "/properties/amount/type"


def test_github_output(files, capsys):
    new = files("new.json", NARROWED)
    _, out, _ = run(capsys, "check", files("old.json", OLD), new, "--output", "github")
    assert out.startswith(f"::error file={new},line=1,title=TYPE_NARROWED::")


def test_junit_output(files, capsys):
    _, out, _ = run(
        capsys, "check", files("old.json", OLD), files("new.json", NARROWED), "--output", "junit"
    )
    suite = ET.fromstring(out.split("?>", 1)[1])
    assert suite.tag == "testsuite" and suite.get("failures") == "1"
    assert suite.find("testcase/failure") is not None


def test_markdown_output(files, capsys):
    _, out, _ = run(
        capsys, "check", files("old.json", OLD), files("new.json", NARROWED), "--output", "markdown"
    )
    assert "## Breaking changes" in out


def test_diff_always_exits_0(files, capsys):
    code, out, _ = run(capsys, "diff", files("old.json", OLD), files("new.json", NARROWED))
    assert code == 0 and "TYPE_NARROWED" in out


@pytest.mark.parametrize("output", ["markdown", "json"])
def test_changelog(files, capsys, output):
    code, out, _ = run(
        capsys, "changelog", files("old.json", OLD), files("new.json", NARROWED), "--output", output
    )
    assert code == 0
    if output == "json":
        assert json.loads(out)["summary"]["breaking"] == 1
    else:
        assert out.startswith("# Changes from `old.json` to `new.json`")


def test_active_waiver_passes(files, capsys):
    config = files(
        "policy.yaml",
        "waivers:\n  - rule: TYPE_NARROWED\n    path: /properties/amount/*\n"
        "    reason: migrating amounts to minor units (FIN-42)\n    expires: 2999-01-31\n",
    )
    code, out, _ = run(
        capsys, "check", files("o.json", OLD), files("n.json", NARROWED), "--config", config
    )
    assert code == 0 and "WAIVED" in out


def test_expired_waiver_fails_naming_it(files, capsys):
    config = files(
        "policy.yaml",
        "waivers:\n  - rule: TYPE_NARROWED\n    path: '*'\n"
        "    reason: old excuse\n    expires: 2020-01-31\n",
    )
    code, out, _ = run(
        capsys, "check", files("o.json", OLD), files("n.json", WIDENED), "--config", config
    )
    assert code == 1 and "WAIVER_EXPIRED" in out and "2020-01-31" in out


def test_waiver_without_reason_is_invalid_config(files, capsys):
    config = files("policy.yaml", "waivers:\n  - rule: TYPE_NARROWED\n    expires: 2999-01-31\n")
    code, _, err = run(
        capsys, "check", files("o.json", OLD), files("n.json", NARROWED), "--config", config
    )
    assert code == 2 and "reason" in err


def test_level_override_in_config(files, capsys):
    config = files("policy.yaml", "levels:\n  TYPE_NARROWED: warning\n")
    code, _, _ = run(
        capsys, "check", files("o.json", OLD), files("n.json", NARROWED), "--config", config
    )
    assert code == 0


def test_transitive_with_several_earlier_files(files, capsys):
    v1 = files("v1.json", {"type": "string", "maxLength": 5})
    v2 = files("v2.json", {"type": "string", "maxLength": 8})
    v3 = files("v3.json", {"type": "string", "maxLength": 8})
    assert run(capsys, "check", v1, v2, v3, "--mode", "FORWARD")[0] == 0
    assert run(capsys, "check", v1, v2, v3, "--mode", "FORWARD_TRANSITIVE")[0] == 1


def test_openapi_files(files, capsys):
    def api(schema):
        return {
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "paths": {
                "/x": {
                    "get": {
                        "responses": {
                            "200": {
                                "description": "ok",
                                "content": {"application/json": {"schema": schema}},
                            }
                        }
                    }
                }
            },
        }

    old = files(
        "old.json",
        api({"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}),
    )
    new = files("new.json", api({"type": "object", "properties": {"id": {"type": "string"}}}))
    code, out, _ = run(capsys, "check", old, new, "--output", "json")
    assert code == 1
    assert "response-property-required-attribute-removed" in out


def test_check_needs_two_files_without_registry(files, capsys):
    assert main(["check", files("o.json", OLD)]) == 2  # argparse's usage error, one line
    assert "check needs OLD and NEW files" in capsys.readouterr().err


def test_module_entry_point_runs_as_subprocess(files):
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "contracts.cli",
            "check",
            files("o.json", OLD),
            files("n.json", NARROWED),
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 1
    assert json.loads(completed.stdout)["compatible"] is False


# -- exit codes are verdicts only; everything else is 2 with one line --------------------------


def test_unexpected_failure_exits_2_with_one_line_not_1(files, capsys, monkeypatch):
    def bug(*args, **kwargs):
        raise AttributeError("'dict' object has no attribute 'startswith'")

    monkeypatch.setattr("contracts.cli.check_compatibility", bug)
    code, out, err = run(capsys, "check", files("old.json", OLD), files("new.json", NARROWED))
    assert code == 2
    assert err.startswith("contracts: internal error (AttributeError:") and err.count("\n") == 1
    assert "Traceback" not in err


def test_diff_exits_0_even_with_breaking_changes(files, capsys):
    code, out, _ = run(capsys, "diff", files("old.json", OLD), files("new.json", NARROWED))
    assert code == 0 and "TYPE_NARROWED" in out


def nested_file(files, name: str, levels: int, leaf: dict) -> str:
    schema = leaf
    for _ in range(levels):
        schema = {"type": "object", "properties": {"p": schema}}
    return files(name, schema)


def test_deeply_nested_files_are_compared_without_recursion_error(files, capsys):
    old = nested_file(files, "old.json", 300, {"type": "string"})
    new = nested_file(files, "new.json", 300, {"type": "integer"})
    code, out, err = run(capsys, "check", old, new, "--output", "json")
    assert code == 1 and err == ""
    (change,) = json.loads(out)["changes"]
    assert change["path"] == "/properties/p" * 300 + "/type"


def test_draft_option_and_dollar_schema(files, capsys):
    code_ = {"type": "string"}
    old = {"definitions": {"code": code_}, "properties": {"c": {"$ref": "#/definitions/code"}}}
    new = copy.deepcopy(old)
    new["properties"]["c"]["maxLength"] = 5
    old_f, new_f = files("old.json", old), files("new.json", new)
    assert run(capsys, "check", old_f, new_f)[0] == 0  # draft-07: $ref siblings ignored
    assert run(capsys, "check", old_f, new_f, "--draft", "2020-12")[0] == 1
    declared = {**new, "$schema": "http://json-schema.org/draft-07/schema#"}
    assert run(capsys, "check", old_f, files("n7.json", declared), "--draft", "2020-12")[0] == 0


def test_alias_bomb_exits_2_with_one_line(files, capsys):
    lines = ["definitions:", "  a0: &a0 {type: string}"]
    for level in range(1, 12):
        props = ", ".join(f"p{i}: *a{level - 1}" for i in range(10))
        lines.append(f"  a{level}: &a{level} {{type: object, properties: {{{props}}}}}")
    lines += ["type: object", "properties: {x: *a11}"]
    bomb = files("bomb.yaml", "\n".join(lines) + "\n")
    code, _, err = run(capsys, "check", bomb, bomb)
    assert code == 2 and "alias bomb" in err and err.count("\n") == 1


# -- contracts subjects create, against a live registry -----------------------------------------


@pytest.fixture
def live_registry(app, clean_db):
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


def test_subjects_create_then_register(files, capsys, live_registry, steward):
    key = steward["Authorization"].split(" ", 1)[1]
    schema = files("supplier.json", OLD)
    common = ("--registry", live_registry, "--key", key)
    code, _, err = run(capsys, "register", schema, "--subject", "supplier-event", *common)
    assert code == 2 and "404" in err  # no subject yet: the registry says so

    code, out, _ = run(
        capsys,
        "subjects",
        "create",
        "supplier-event",
        "--owner",
        "data-platform",
        "--mode",
        "full",
        *common,
    )
    assert code == 0
    expected = "created subject supplier-event (jsonschema, owner data-platform, mode FULL)"
    assert out.strip() == expected
    code, out, _ = run(capsys, "register", schema, "--subject", "supplier-event", *common)
    assert code == 0 and "supplier-event 1.0.0" in out

    code, _, err = run(capsys, "subjects", "create", "supplier-event", "--owner", "x", *common)
    assert code == 2 and "409" in err  # already exists: refused, not a verdict


# -- CI output: where each change is --------------------------------------------------------

API_OLD = """openapi: 3.0.3
info: {title: t, version: '1'}
paths:
  /items/{itemId}:
    parameters:
      - {name: itemId, in: path, required: true, schema: {type: string}}
    get:
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Item'}
  /legacy:
    get:
      responses: {'200': {description: ok}}
components:
  schemas:
    Item:
      type: object
      required: [id]
      properties:
        id: {type: string}
        name: {type: string}
"""
API_NEW = (
    API_OLD.replace("        id: {type: string}\n", "")
    .replace("      required: [id]\n", "")
    .replace("  /legacy:\n    get:\n      responses: {'200': {description: ok}}\n", "")
    .replace("{type: string}}", "{type: string, maxLength: 9}}")
)


def by_rule(out: str) -> dict[str, dict]:
    return {c["rule"]: c for c in json.loads(out)["changes"]}


def test_every_change_points_into_its_document_with_a_line(files, capsys):
    old, new = files("old.yaml", API_OLD), files("new.yaml", API_NEW)
    code, out, _ = run(capsys, "check", old, new, "--output", "json")
    assert code == 1
    changes = by_rule(out)
    removed_path = changes["api-path-removed-without-deprecation"]
    assert (removed_path["document"], removed_path["pointer"]) == (old, "/paths/~1legacy")
    assert removed_path["line"] == API_OLD.splitlines().index("  /legacy:") + 1
    # a response property removed behind a $ref: the old document's component, its line
    gone = changes["response-property-required-property-removed-from-unopen-content-model"]
    assert gone["document"] == old
    assert gone["pointer"] == "/components/schemas/Item/required/0"
    assert gone["line"] == API_OLD.splitlines().index("      required: [id]") + 1
    # a path parameter narrowed: named by location and name, placed at its index
    narrowed = next(c for c in changes.values() if "max-length" in c["rule"])
    assert narrowed["document"] == new
    assert narrowed["pointer"].startswith("/paths/~1items~1{itemId}/parameters/0/schema")
    for change in changes.values():  # every pointer resolves in the document it names
        document = __import__("yaml").safe_load(API_OLD if change["document"] == old else API_NEW)
        node = document
        for part in change["pointer"].lstrip("/").split("/") if change["pointer"] else []:
            part = part.replace("~1", "/").replace("~0", "~")
            node = node[int(part)] if isinstance(node, list) else node[part]


def test_github_annotations_carry_file_of_the_right_document_and_line(files, capsys):
    old, new = files("old.yaml", API_OLD), files("new.yaml", API_NEW)
    _, out, _ = run(capsys, "check", old, new, "--output", "github")
    removal = next(line for line in out.splitlines() if "api-path-removed" in line)
    line = API_OLD.splitlines().index("  /legacy:") + 1
    assert removal.startswith(f"::error file={old},line={line},title=")


def test_junit_is_valid_xml_even_with_control_characters(files, capsys):
    from xml.dom import minidom

    old = {"type": "object", "properties": {"bell\x07name": {"type": "string"}}}
    new = {"type": "object", "properties": {"bell\x07name": {"type": "integer"}}}
    _, out, _ = run(
        capsys, "check", files("o.json", old), files("n.json", new), "--output", "junit"
    )
    document = minidom.parseString(out.encode("utf-8"))  # a real parser, strict XML 1.0
    (case,) = document.getElementsByTagName("testcase")
    assert "bell\\u0007name" in case.getAttribute("name")
    assert case.getAttribute("file").endswith("n.json") and case.getAttribute("line") == "1"


def test_json_reports_share_one_versioned_shape(files, capsys):
    old, new = files("old.yaml", API_OLD), files("new.yaml", API_NEW)
    shapes = []
    for command in (["check"], ["diff"], ["changelog"]):
        _, out, _ = run(capsys, *command, old, new, "--output", "json")
        data = json.loads(out)
        assert data["schema_version"] == 1 and data["kind"] == command[0]
        shapes.append(set(data) - {"from", "to"})
        assert all({"document", "pointer", "line"} <= set(c) for c in data["changes"])
    assert shapes[0] == shapes[1] == shapes[2]


def test_rules_catalogue_lists_every_rule_a_report_uses(files, capsys):
    code, out, _ = run(capsys, "rules", "--output", "json")
    catalogue = {row["id"]: row["level"] for row in json.loads(out)["rules"]}
    assert code == 0 and len(catalogue) == len(json.loads(out)["rules"])  # no duplicates
    old, new = files("old.yaml", API_OLD), files("new.yaml", API_NEW)
    _, out, _ = run(capsys, "diff", old, new, "--output", "json")
    used = json.loads(out)["changes"]
    assert used and all(c["rule"] in catalogue for c in used)
    assert catalogue["response-property-required-attribute-removed"] in ("breaking", "warning")


def test_files_may_hold_integers_beyond_64_bits(files, capsys):
    uint64 = {"type": "integer", "minimum": 0, "maximum": 18446744073709551615}
    code, out, _ = run(capsys, "diff", files("o.json", uint64), files("n.json", uint64))
    assert code == 0 and "0 breaking" in out
