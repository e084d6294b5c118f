"""Webhook payload links: API paths as stored, absolute under CONVEYOR_PUBLIC_URL when it is set."""

from app.webhooks.links import absolute_links

PAYLOAD = {
    "type": "run.failed",
    "version": 1,
    "data": {"run_id": "r1", "links": {"run": "/api/v1/runs/r1", "logs": "/api/v1/runs/r1/logs"}},
}


def test_without_a_public_url_links_stay_paths() -> None:
    assert absolute_links(PAYLOAD, "") is PAYLOAD


def test_with_a_public_url_each_link_is_absolute_and_the_stored_payload_is_untouched() -> None:
    sent = absolute_links(PAYLOAD, "https://conveyor.example.com/base/")
    assert sent["data"]["links"] == {
        "run": "https://conveyor.example.com/base/api/v1/runs/r1",
        "logs": "https://conveyor.example.com/base/api/v1/runs/r1/logs",
    }
    assert sent["data"]["run_id"] == "r1"
    assert sent["type"] == "run.failed"
    assert PAYLOAD["data"]["links"]["run"] == "/api/v1/runs/r1"  # type: ignore[index]


def test_a_payload_without_links_or_with_odd_ones_is_sent_as_it_is() -> None:
    assert absolute_links({"type": "x", "data": {}}, "https://c.example") == {"type": "x", "data": {}}
    odd = {"data": {"links": {"docs": "https://elsewhere.example/x", "n": 3}}}
    assert absolute_links(odd, "https://c.example") == odd
