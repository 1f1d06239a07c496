"""AsyncAPI rules: received payloads are read by the new app, sent ones by old consumers."""

from __future__ import annotations

import copy

from contracts.compatibility import Level, check_compatibility

PAYMENT = {
    "type": "object",
    "required": ["id", "amount"],
    "properties": {"id": {"type": "string"}, "amount": {"type": "number"}},
}


def v2(publish_payload: dict, subscribe_payload: dict) -> dict:
    return {
        "asyncapi": "2.6.0",
        "info": {"title": "payments", "version": "1"},
        "channels": {
            "payments.requested": {
                "publish": {"message": {"name": "PaymentRequested", "payload": publish_payload}}
            },
            "payments.settled": {
                "subscribe": {"message": {"name": "PaymentSettled", "payload": subscribe_payload}}
            },
        },
    }


def v3(payload: dict, action: str = "send") -> dict:
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "payments", "version": "1"},
        "channels": {
            "settled": {
                "address": "payments.settled",
                "messages": {"Settled": {"$ref": "#/components/messages/Settled"}},
            }
        },
        "operations": {
            "publishSettled": {
                "action": action,
                "channel": {"$ref": "#/channels/settled"},
                "messages": [{"$ref": "#/channels/settled/messages/Settled"}],
            }
        },
        "components": {"messages": {"Settled": {"payload": payload}}},
    }


def breaking(old: dict, new: dict) -> set[str]:
    return {c.rule for c in check_compatibility(new, [old]).changes if c.level is Level.BREAKING}


def with_required(schema: dict, name: str) -> dict:
    changed = copy.deepcopy(schema)
    changed["properties"][name] = {"type": "string"}
    changed["required"].append(name)
    return changed


def test_received_message_requiring_a_new_field_breaks_producers():
    old = v2(PAYMENT, PAYMENT)
    new = v2(with_required(PAYMENT, "currency"), PAYMENT)
    assert any(r.startswith("received-message-payload") for r in breaking(old, new))


def test_sent_message_adding_a_required_field_is_fine_for_consumers():
    old = v2(PAYMENT, PAYMENT)
    new = v2(PAYMENT, with_required(PAYMENT, "currency"))
    assert check_compatibility(new, [old]).compatible


def test_sent_message_dropping_a_required_field_breaks_consumers():
    slim = copy.deepcopy(PAYMENT)
    slim["properties"].pop("amount")
    slim["required"] = ["id"]
    rules = breaking(v2(PAYMENT, PAYMENT), v2(PAYMENT, slim))
    assert "sent-message-payload-required-property-removed-from-unopen-content-model" in rules


def test_channel_removed():
    old = v2(PAYMENT, PAYMENT)
    new = copy.deepcopy(old)
    new["channels"].pop("payments.settled")
    assert "channel-removed" in breaking(old, new)


def test_v3_sent_payload_type_change_breaks():
    changed = copy.deepcopy(PAYMENT)
    changed["properties"]["amount"] = {"type": "string"}
    assert "sent-message-payload-type-changed" in breaking(v3(PAYMENT), v3(changed))


def test_v3_operation_action_flip_breaks():
    assert "operation-action-changed" in breaking(v3(PAYMENT), v3(PAYMENT, action="receive"))


def test_v3_unchanged_is_silent():
    assert check_compatibility(v3(PAYMENT), [v3(PAYMENT)]).changes == ()
