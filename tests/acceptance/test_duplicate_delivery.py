"""The same Dramatiq message delivered more than once: the run executes once."""

from __future__ import annotations

import pytest

from tests.acceptance.harness import ConveyorSystem, wait_until


def _started_lines(system: ConveyorSystem, run_id: str) -> list[str]:
    return [line["message"] for line in system.log_lines(run_id) if " started on " in line["message"]]


@pytest.mark.acceptance
def test_a_queued_run_whose_message_is_delivered_three_times_runs_once(system: ConveyorSystem) -> None:
    # Given a run QUEUED behind busy workers, its message waiting in Redis
    blockers = system.occupy_all_threads()
    pipeline = system.create_pipeline([{"type": "log", "message": "side effect"}, {"type": "sleep", "seconds": 0.5}])
    run_id = system.submit(pipeline["id"])["id"]
    system.wait_runs([run_id], statuses=frozenset({"QUEUED"}), timeout=10)

    # When two more copies of its message reach the broker
    duplicates = [system.enqueue_duplicate(run_id), system.enqueue_duplicate(run_id)]
    assert system.run(run_id)["status"] == "QUEUED"
    # and the workers free up, so all three deliveries are consumed together
    for blocker in blockers:
        system.cancel(blocker)
    run = system.wait_runs([run_id], timeout=30)[run_id]
    wait_until(
        lambda: all(system.message_acked(m) for m in duplicates),
        timeout=30,
        what="both duplicate messages to be consumed",
    )

    # Then the run executed exactly once
    assert run["status"] == "SUCCEEDED", run
    assert system.run(run_id)["attempt"] == 1
    events = system.events(run_id)
    assert [e["to_status"] for e in events] == ["PENDING", "QUEUED", "RUNNING", "SUCCEEDED"]
    assert len(_started_lines(system, run_id)) == 1
    assert [line["message"] for line in system.log_lines(run_id)].count("side effect") == 1


@pytest.mark.acceptance
def test_a_message_delivered_again_after_the_run_finished_changes_nothing(system: ConveyorSystem) -> None:
    # Given a run that has finished
    pipeline = system.create_pipeline([{"type": "log", "message": "side effect"}])
    run_id = system.submit(pipeline["id"])["id"]
    assert system.wait_runs([run_id], timeout=20)[run_id]["status"] == "SUCCEEDED"
    before = (system.run(run_id), system.events(run_id), system.log_lines(run_id))

    # When its message is delivered twice more
    duplicates = [system.enqueue_duplicate(run_id), system.enqueue_duplicate(run_id)]
    wait_until(
        lambda: all(system.message_acked(m) for m in duplicates),
        timeout=20,
        what="the duplicate messages to be consumed",
    )

    # Then the run, its history and its log are unchanged
    after = (system.run(run_id), system.events(run_id), system.log_lines(run_id))
    assert after == before
    assert after[0]["attempt"] == 1
    assert len(_started_lines(system, run_id)) == 1
