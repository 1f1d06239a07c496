"""Render a CompatibilityResult for people and CI systems: text, JSON, markdown, JUnit, GitHub."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections import Counter

from contracts.compatibility.changelog import changelog_markdown, report_data
from contracts.compatibility.result import Change, CompatibilityResult, Level

OUTPUTS = ("text", "json", "markdown", "junit", "github")


def render(
    result: CompatibilityResult,
    output: str,
    old: str,
    new: str,
    all_levels: bool,
    *,
    kind: str = "check",
    earlier: list[str] | None = None,
) -> str:
    if output == "json":
        shown = earlier if earlier is not None and len(earlier) > 1 else old
        return json.dumps(report_data(result, kind, shown, new), indent=2)
    if output == "markdown":
        return changelog_markdown(result, old, new)
    if output == "junit":
        return junit(result, new)
    if output == "github":
        return github(result, new)
    return text(result, all_levels)


def _visible(result: CompatibilityResult, all_levels: bool) -> list[Change]:
    return [c for c in result.changes if all_levels or c.level is not Level.INFO]


def text(result: CompatibilityResult, all_levels: bool = False) -> str:
    counts = Counter(c.level.value for c in result.changes if not c.waived)
    waived = sum(1 for c in result.changes if c.waived)
    verdict = "compatible" if result.compatible else "NOT compatible"
    summary = ", ".join(f"{counts.get(level.value, 0)} {level.value}" for level in Level)
    lines = [f"{result.mode.value}: {verdict} ({summary}{f', {waived} waived' if waived else ''})"]
    for change in _visible(result, all_levels):
        level = "WAIVED" if change.waived else change.level.value.upper()
        extra = []
        if change.direction is not None:
            extra.append(change.direction.value)
        if change.against:
            extra.append(f"vs {change.against}")
        suffix = f" [{', '.join(extra)}]" if extra else ""
        lines.append(f"  {level:<8} {change.rule}  {change.path or '/'}{suffix}")
        lines.append(f"           {change.message}")
        if change.document is not None:
            at = f":{change.line}" if change.line else ""
            lines.append(f"           at {change.document}{at} {change.pointer or '/'}")
        if change.waived:
            lines.append(f"           waived: {change.waived}")
    return "\n".join(lines)


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def github(result: CompatibilityResult, file: str) -> str:
    """GitHub Actions workflow commands, one per breaking change or warning."""
    lines = []
    for change in result.changes:
        if change.waived or change.level is Level.INFO:
            continue
        command = "error" if change.level is Level.BREAKING else "warning"
        props = f"file={_escape_property(change.document or file)}"
        if change.line:
            props += f",line={change.line}"
        props += f",title={_escape_property(change.rule)}"
        message = _escape_data(f"{change.path or '/'}: {change.message}")
        lines.append(f"::{command} {props}::{message}")
    if not lines:
        lines.append(f"::notice file={_escape_property(file)}::compatible ({result.mode.value})")
    return "\n".join(lines)


# Characters XML 1.0 cannot carry at all (even escaped): C0 controls but tab, LF, CR; lone
# surrogates; U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_text(value: str) -> str:
    return _NOT_XML.sub(lambda m: f"\\u{ord(m.group()):04x}", value)


def junit(result: CompatibilityResult, file: str) -> str:
    """A JUnit XML testsuite: one testcase per breaking change or warning, or one passing case."""
    reported = [c for c in result.changes if c.level is not Level.INFO]
    failures = [c for c in reported if c.blocking]
    suite = ET.Element(
        "testsuite",
        name=_xml_text(f"contracts {file}"),
        tests=str(max(len(reported), 1)),
        failures=str(len(failures)),
        errors="0",
        skipped=str(sum(1 for c in reported if c.waived)),
    )
    for change in reported:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"contracts.{result.mode.value}",
            name=_xml_text(f"{change.rule} {change.path or '/'}"),
        )
        if change.document is not None:
            case.set("file", _xml_text(change.document))
        if change.line:
            case.set("line", str(change.line))
        if change.blocking:
            message = _xml_text(change.message)
            failure = ET.SubElement(case, "failure", message=message, type=_xml_text(change.rule))
            failure.text = message
        elif change.waived:
            ET.SubElement(case, "skipped", message=_xml_text(f"waived: {change.waived}"))
        else:
            ET.SubElement(case, "system-out").text = _xml_text(f"warning: {change.message}")
    if not reported:
        ET.SubElement(
            suite, "testcase", classname=f"contracts.{result.mode.value}", name="compatible"
        )
    return ET.tostring(suite, encoding="unicode", xml_declaration=True)
