"""Breaking changes between two AsyncAPI 2.x / 3.0 descriptions of one application.

Messages the application receives are written by other producers (still on the old contract)
and read by the new application: writer = old payload, reader = new payload. Messages the
application sends are written by the new application and read by consumers of the old
contract: writer = new, reader = old. AsyncAPI 2.x calls these `publish` (the application
receives) and `subscribe` (the application sends); 3.0 says `receive` and `send`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from contracts.compatibility.changes import api_change, api_schema_change
from contracts.compatibility.document import SchemaDocument
from contracts.compatibility.jsonschema_diff import DiffOptions, SchemaComparator
from contracts.compatibility.loader import Contract
from contracts.compatibility.pointer import escape
from contracts.compatibility.result import Change, Direction
from contracts.compatibility.rules import ApiRule as A
from contracts.errors import UnresolvableReference

# JSON Schema written as JSON or YAML (`;version=draft-07` parameters included) or AsyncAPI's
# own schema object, which is a JSON Schema superset.
_JSON_SCHEMA_FORMATS = (
    "application/schema+json",
    "application/schema+yaml",
    "application/vnd.aai.asyncapi",
)
_V2_ACTIONS = {"publish": "receive", "subscribe": "send"}
_PARAMETER = re.compile(r"\{[^}/]*\}")
_UNRESOLVED: Any = object()


class _Operation:
    """An operation flattened across versions: action, channel, and its messages by key."""

    def __init__(self, action: str, channel: str, messages: dict[str, Any]) -> None:
        self.action = action
        self.channel = channel
        self.messages = messages


def _message_key(doc: SchemaDocument, raw: Any, index: int) -> str:
    if isinstance(raw, dict) and isinstance(raw.get("$ref"), str):
        return raw["$ref"].rsplit("/", 1)[-1]
    message = doc.resolve(raw)
    if isinstance(message, dict):
        for key in ("messageId", "name"):
            if isinstance(message.get(key), str):
                return message[key]
    return f"#{index}"


def _operations(doc: SchemaDocument) -> dict[str, _Operation]:
    root = doc.root
    found: dict[str, _Operation] = {}
    if str(root.get("asyncapi", "")).startswith("2."):
        for channel, raw_item in (root.get("channels") or {}).items():
            item = doc.resolve(raw_item)
            if not isinstance(item, dict):
                continue
            for verb, action in _V2_ACTIONS.items():
                operation = doc.resolve(item.get(verb))
                if not isinstance(operation, dict):
                    continue
                try:
                    message = doc.resolve(operation.get("message"))
                except UnresolvableReference:  # judged as "not comparable" per message
                    message = {}
                members = (
                    message["oneOf"]
                    if isinstance(message, dict) and isinstance(message.get("oneOf"), list)
                    else [operation.get("message")]
                    if message is not None
                    else []
                )
                messages = {_message_key(doc, m, i): m for i, m in enumerate(members)}
                found[f"{channel} {verb}"] = _Operation(action, channel, messages)
        return found
    channels = root.get("channels") or {}
    for name, raw_op in (root.get("operations") or {}).items():
        operation = doc.resolve(raw_op)
        if not isinstance(operation, dict):
            continue
        channel_ref = operation.get("channel", {})
        channel_key = (
            channel_ref["$ref"].rsplit("/", 1)[-1]
            if isinstance(channel_ref, dict) and isinstance(channel_ref.get("$ref"), str)
            else ""
        )
        listed = operation.get("messages")
        if not isinstance(listed, list):
            channel = doc.resolve(channels.get(channel_key)) or {}
            listed = list((channel.get("messages") or {}).values())
        messages = {_message_key(doc, m, i): m for i, m in enumerate(listed)}
        found[name] = _Operation(str(operation.get("action", "")), channel_key, messages)
    return found


def _address(doc: SchemaDocument, key: str, raw: Any, v2: bool) -> str | None:
    """A channel's address with parameter names blanked ({userId} and {id} are one shape).

    2.x: the key is the address. 3.0: `address` (null: unknown, matched by key only).
    """
    if v2:
        return _PARAMETER.sub("{}", key)
    try:
        channel = doc.resolve(raw)
    except UnresolvableReference:
        return None
    address = channel.get("address") if isinstance(channel, dict) else None
    return _PARAMETER.sub("{}", address) if isinstance(address, str) else None


class AsyncApiDiff:
    def __init__(self, old: Contract, new: Contract, direction: Direction) -> None:
        self.old_doc = old.schema_document()
        self.new_doc = new.schema_document()
        self.direction = direction
        self.labels = ("old", "new") if direction is Direction.BACKWARD else ("new", "old")
        options = DiffOptions(open_writer_carries_unknown=False, annotations=False)
        self.received = SchemaComparator(self.old_doc, self.new_doc, options)
        self.sent = SchemaComparator(self.new_doc, self.old_doc, options)
        self.v2 = str(self.new_doc.root.get("asyncapi", "")).startswith("2.")
        self.channel_map = self._match_channels()

    def changes(self) -> list[Change]:
        return list(self._channels()) + list(self._operations())

    def _match_channels(self) -> dict[str, str]:
        """Old channel key -> new channel key: the same address first (a renamed key or
        parameter is the same channel), then the same key (its address may have changed)."""
        old = self.old_doc.root.get("channels") or {}
        new = self.new_doc.root.get("channels") or {}
        new_addresses: dict[str, list[str]] = {}
        for key, raw in new.items():
            address = _address(self.new_doc, key, raw, self.v2)
            if address is not None:
                new_addresses.setdefault(address, []).append(key)
        matched: dict[str, str] = {}
        taken: set[str] = set()
        for key, raw in old.items():
            address = _address(self.old_doc, key, raw, self.v2)
            same = [k for k in new_addresses.get(address or "", []) if k not in taken]
            if address is not None and same:
                matched[key] = key if key in same else same[0]
                taken.add(matched[key])
        for key in old:
            if key not in matched and key in new and key not in taken:
                matched[key] = key
                taken.add(key)
        return matched

    def _channels(self) -> Iterator[Change]:
        old = self.old_doc.root.get("channels") or {}
        new = self.new_doc.root.get("channels") or {}
        for name in old:
            pointer = f"/channels/{escape(name)}"
            if name not in self.channel_map:
                yield api_change(A.CHANNEL_REMOVED, pointer, name, "channels", self.direction)
                continue
            new_name = self.channel_map[name]
            old_address = _address(self.old_doc, name, old[name], self.v2)
            new_address = _address(self.new_doc, new_name, new[new_name], self.v2)
            if not self.v2 and old_address != new_address:
                yield api_change(
                    A.CHANNEL_ADDRESS_CHANGED,
                    f"/channels/{escape(new_name)}/address",
                    new_name,
                    "channels",
                    self.direction,
                )
        for name in new.keys() - set(self.channel_map.values()):
            yield api_change(
                A.CHANNEL_ADDED, f"/channels/{escape(name)}", name, "channels", self.direction
            )

    def _operations(self) -> Iterator[Change]:
        old_ops = _operations(self.old_doc)
        new_ops = _operations(self.new_doc)
        v2 = self.v2
        if v2:  # 2.x operations live in their channel: follow renamed channels
            old_ops = {
                f"{self.channel_map.get(op.channel, op.channel)} {key.rsplit(' ', 1)[1]}": op
                for key, op in old_ops.items()
            }
        for key, old_op in old_ops.items():
            pointer = self._operation_pointer(key)
            what = f"operation {key}"
            new_op = new_ops.get(key)
            old_channels = self.old_doc.root.get("channels") or {}
            if new_op is None:
                if v2 and old_op.channel not in self.channel_map:
                    continue  # reported once as channel-removed
                if (
                    not v2
                    and old_op.channel in old_channels
                    and old_op.channel not in self.channel_map
                ):
                    continue
                yield api_change(A.OPERATION_REMOVED, pointer, what, "operations", self.direction)
                continue
            if new_op.action != old_op.action:
                yield api_change(
                    A.OPERATION_ACTION_CHANGED, pointer, what, "operations", self.direction
                )
                continue
            yield from self._messages(old_op, new_op, pointer, what)
        for key in new_ops.keys() - old_ops.keys():
            yield api_change(
                A.OPERATION_ADDED,
                self._operation_pointer(key),
                f"operation {key}",
                "operations",
                self.direction,
            )

    def _operation_pointer(self, key: str) -> str:
        if self.v2:
            channel, verb = key.rsplit(" ", 1)
            return f"/channels/{escape(channel)}/{verb}"
        return f"/operations/{escape(key)}"

    def _messages(
        self, old_op: _Operation, new_op: _Operation, pointer: str, what: str
    ) -> Iterator[Change]:
        receive = new_op.action == "receive"
        for key, old_raw in old_op.messages.items():
            message_pointer = f"{pointer}/messages/{escape(key)}"
            message_what = f"{what} message '{key}'"
            new_raw = new_op.messages.get(key)
            if new_raw is None:
                rule = A.RECEIVED_MESSAGE_REMOVED if receive else A.SENT_MESSAGE_REMOVED
                yield api_change(rule, message_pointer, message_what, "messages", self.direction)
                continue
            old_message = _message_of(self.old_doc, old_raw)
            new_message = _message_of(self.new_doc, new_raw)
            if old_message is _UNRESOLVED or new_message is _UNRESOLVED:
                yield api_change(
                    A.PAYLOAD_NOT_COMPARABLE,
                    message_pointer,
                    message_what,
                    "messages",
                    self.direction,
                )
                continue
            yield from self._message(
                old_message, new_message, receive, message_pointer, message_what
            )
        for key in new_op.messages.keys() - old_op.messages.keys():
            rule = A.RECEIVED_MESSAGE_ADDED if receive else A.SENT_MESSAGE_ADDED
            yield api_change(
                rule,
                f"{pointer}/messages/{escape(key)}",
                f"{what} message '{key}'",
                "messages",
                self.direction,
            )

    def _message(
        self, old: Any, new: Any, receive: bool, pointer: str, what: str
    ) -> Iterator[Change]:
        if not isinstance(old, dict) or not isinstance(new, dict):
            return
        old_type = old.get("contentType", self.old_doc.root.get("defaultContentType"))
        new_type = new.get("contentType", self.new_doc.root.get("defaultContentType"))
        if old_type != new_type:
            yield api_change(
                A.MESSAGE_CONTENT_TYPE_CHANGED, pointer, what, "messages", self.direction
            )
        for part in ("payload", "headers"):
            old_schema, old_format = _schema_of(old, part)
            new_schema, new_format = _schema_of(new, part)
            if old_schema is None or new_schema is None:
                continue
            if not (_is_json_schema(old_format) and _is_json_schema(new_format)):
                yield api_change(
                    A.PAYLOAD_FORMAT_UNSUPPORTED,
                    f"{pointer}/{part}",
                    what,
                    "messages",
                    self.direction,
                )
                continue
            comparator = self.received if receive else self.sent
            writer, reader = (old_schema, new_schema) if receive else (new_schema, old_schema)
            location = f"{'received' if receive else 'sent'}-message-{part}"
            try:
                findings = comparator.compare(writer, reader)
            except UnresolvableReference:  # a schema outside the document: not comparable
                yield api_change(
                    A.PAYLOAD_NOT_COMPARABLE,
                    f"{pointer}/{part}",
                    what,
                    "messages",
                    self.direction,
                )
                continue
            for finding in findings:
                yield api_schema_change(
                    finding,
                    location,
                    receive,
                    f"{pointer}/{part}",
                    what,
                    "messages",
                    self.direction,
                    self.labels,
                )


def _message_of(doc: SchemaDocument, raw: Any) -> Any:
    """The message with its traits applied (the message's own fields win), or _UNRESOLVED."""
    try:
        message = doc.resolve(raw)
        if not isinstance(message, dict) or not isinstance(message.get("traits"), list):
            return message
        merged: dict[str, Any] = {}
        for raw_trait in message["traits"]:
            trait = doc.resolve(raw_trait)
            if isinstance(trait, dict):
                merged.update(trait)
        merged.update({k: v for k, v in message.items() if k != "traits"})
    except UnresolvableReference:
        return _UNRESOLVED
    doc.keep(merged)
    return merged


def _schema_of(message: dict[str, Any], part: str) -> tuple[Any, str | None]:
    schema = message.get(part)
    schema_format = message.get("schemaFormat") if part == "payload" else None
    # AsyncAPI 3.0 multi-format schema object
    if isinstance(schema, dict) and "schemaFormat" in schema and "schema" in schema:
        return schema["schema"], schema["schemaFormat"]
    return schema, schema_format


def _is_json_schema(schema_format: str | None) -> bool:
    return schema_format is None or schema_format.startswith(_JSON_SCHEMA_FORMATS)


def asyncapi_changes(old: Contract, new: Contract, direction: Direction) -> list[Change]:
    """Changes that affect producers and consumers of `old` when the application moves to `new`."""
    return AsyncApiDiff(old, new, direction).changes()
