"""What a deployment's schedule must be to be accepted (422 naming the field), and its preview of fire times."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta

import pytest
from litestar.testing import TestClient


@pytest.mark.parametrize(
    ("schedule", "field", "code"),
    [
        ({"kind": "cron", "cron": "61 * * * *"}, "schedule.cron", "invalid_cron"),
        ({"kind": "cron", "cron": "0 0 L-\u00b2 * *"}, "schedule.cron", "invalid_cron"),  # a superscript 2: was a 500
        ({"kind": "cron", "cron": "0 * * * *", "timezone": "Mars/Olympus"}, "schedule.timezone", "unknown_timezone"),
        ({"kind": "interval", "seconds": 0}, "schedule.seconds", "invalid_interval"),
        ({"kind": "once", "at": "2001-01-01T00:00:00Z"}, "schedule.at", "once_in_the_past"),
        ({"kind": "cron", "cron": "0 0 30 2 *"}, "schedule.cron", "schedule_never_fires"),
        ({"kind": "cron", "cron": "0 0 */30 2 5#5"}, "schedule.cron", "schedule_never_fires"),  # 1 Feb, 5th Friday
    ],
)
def test_bad_schedules_are_422_naming_the_field(
    client: TestClient, pipeline: dict, schedule: dict, field: str, code: str
) -> None:
    response = client.post("/api/v1/deployments", json={"name": "bad", "pipeline": "noop", "schedule": schedule})
    assert response.status_code == 422
    assert (response.json()["code"], response.json()["errors"][0]["field"]) == (code, field)


@pytest.mark.parametrize(
    ("given", "field", "code"),
    [
        ({"schedule": {"kind": "interval", "seconds": 1e-9}}, "schedule.seconds", "invalid_interval"),
        ({"schedule": {"kind": "interval", "seconds": 1e15}}, "schedule.seconds", "invalid_interval"),
        ({"schedule": {"kind": "once", "at": "9999-12-31T23:59:59-14:00"}}, "schedule.at", "time_out_of_range"),
        ({"start_at": "0001-01-01T00:00:00+14:00"}, "start_at", "time_out_of_range"),
        ({"end_at": "2027-01-01T00:00:00"}, "end_at", "invalid_schedule"),
    ],
)
def test_times_and_intervals_the_fire_time_maths_cannot_hold_are_422(
    client: TestClient, pipeline: dict, given: dict, field: str, code: str
) -> None:
    """Each answered 500: a step of 0 (division by zero), datetime overflow, or comparing with a naive time."""
    body = {"name": "bad", "pipeline": "noop", "schedule": {"kind": "cron", "cron": "0 * * * *"}, **given}
    response = client.post("/api/v1/deployments", json=body)
    assert response.status_code == 422, response.text
    assert (response.json()["code"], response.json()["errors"][0]["field"]) == (code, field)


@pytest.mark.parametrize(
    "schedule",
    [
        {"kind": "cron", "cron": "0 0 1 1 *"},  # next on 1 January, the window ends in a week
        {"kind": "interval", "seconds": 30 * 86_400, "anchor": "2020-01-01T00:00:00Z"},
    ],
)
def test_a_window_that_ends_before_the_first_fire_time_is_422(
    client: TestClient, pipeline: dict, schedule: dict
) -> None:
    """Accepted as a deployment that would never run (its next_run_at null) when only the cron line was checked."""
    now = datetime.now(UTC)
    first = now.replace(year=now.year + 1, month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    end = min(now + timedelta(days=7), first - timedelta(hours=1))
    body = {"name": "short", "pipeline": "noop", "schedule": schedule, "end_at": end.isoformat()}
    if schedule["kind"] == "interval":  # fires at anchor + k * 30 days: a window of an hour just after one of them
        period, anchor = timedelta(days=30), datetime(2020, 1, 1, tzinfo=UTC)
        fired = anchor + period * ((now - anchor) // period + 1)
        body["start_at"] = (fired + timedelta(hours=1)).isoformat()
        body["end_at"] = (fired + timedelta(hours=2)).isoformat()
    response = client.post("/api/v1/deployments", json=body)
    assert response.status_code == 422, response.text
    assert (response.json()["code"], response.json()["errors"][0]["field"]) == ("schedule_never_fires", "end_at")
    body["end_at"] = None
    assert client.post("/api/v1/deployments", json=body).status_code == 201


def test_end_before_start_and_unknown_pipeline(client: TestClient, pipeline: dict) -> None:
    window = client.post(
        "/api/v1/deployments",
        json={
            "name": "w",
            "pipeline": "noop",
            "schedule": {"kind": "interval", "seconds": 5},
            "start_at": "2031-01-02T00:00:00Z",
            "end_at": "2031-01-01T00:00:00Z",
        },
    )
    assert (window.status_code, window.json()["errors"][0]["field"]) == (422, "end_at")
    unknown = client.post(
        "/api/v1/deployments", json={"name": "u", "pipeline": "nope", "schedule": {"kind": "interval", "seconds": 5}}
    )
    assert (unknown.status_code, unknown.json()["code"]) == (422, "pipeline_not_found")


def test_preview_and_upcoming(client: TestClient, pipeline: dict) -> None:
    draft = {
        "name": "preview",
        "pipeline": "noop",
        "schedule": {"kind": "cron", "cron": "30 2 * * *", "timezone": "Europe/Berlin"},
    }
    times = client.post("/api/v1/deployments/validate", params={"n": 3}, json=draft).json()["fire_times"]
    assert len(times) == 3
    created = client.post("/api/v1/deployments", json=draft).json()
    upcoming = client.get(f"/api/v1/deployments/{created['id']}/upcoming", params={"n": 3}).json()["fire_times"]
    assert upcoming == times
    listed = client.get("/api/v1/deployments").json()["items"]
    assert listed[0]["next_run_at"] == times[0]


def test_schedules_whose_next_fire_time_is_years_away_are_kept_with_it(client: TestClient, pipeline: dict) -> None:
    """A fifth Monday in February (29 February 2044, then 2072) was refused as never firing, and a once or an
    interval more than 8 years ahead was stored with no next_run_at: it never fired."""
    line = client.post(
        "/api/v1/deployments",
        json={"name": "rare", "pipeline": "noop", "schedule": {"kind": "cron", "cron": "0 0 * 2 1#5"}},
    )
    assert line.status_code == 201, line.text
    upcoming = client.get(f"/api/v1/deployments/{line.json()['id']}/upcoming", params={"n": 2}).json()
    now = datetime.now(UTC)
    leap_mondays = [
        f"{year}-02-29"
        for year in range(now.year, now.year + 200)
        if calendar.isleap(year)
        and calendar.weekday(year, 2, 29) == calendar.MONDAY
        and datetime(year, 2, 29, tzinfo=UTC) > now
    ]
    assert [at[:10] for at in upcoming["fire_times"]] == leap_mondays[:2]
    at = (datetime.now(UTC) + timedelta(days=366 * 12)).replace(microsecond=0)
    later = client.post(
        "/api/v1/deployments",
        json={"name": "later", "pipeline": "noop", "schedule": {"kind": "once", "at": at.isoformat()}},
    )
    assert later.status_code == 201, later.text
    assert datetime.fromisoformat(later.json()["next_run_at"]) == at
