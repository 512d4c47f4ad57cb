"""Every event type a job's events can hold is a member of `JobEventType` (issue 14's
vocabularies with names): the `event(…, '<type>')` calls of the Lua scripts
(core/store/lua), the finishing script's statuses, and Python's `runs.note(…,
JobEventType.<type>)` — and the OpenAPI lists them."""

from __future__ import annotations

import re
from pathlib import Path

from cornu.api.app import create_app
from cornu.core.spec import JobEventType, JobStatus, StreamEventType
from cornu.core.spec.resources import ReaperOutcome
from cornu.core.spec.study import StudyEventType, StudyStatus

ROOT = Path(__file__).resolve().parents[3]


def emitted() -> set[str]:
    """The event types the store's scripts and the service's notes write."""
    found: set[str] = set()
    for path in [*(ROOT / "core").rglob("*.py"), *(ROOT / "core").rglob("*.lua")]:
        text = path.read_text()
        found |= set(re.findall(r"event\(events, feed, now, '([a-z_]+)'", text))
        found |= set(re.findall(r"JobEventType\.([a-z_]+)", text))
    return found


def test_every_emitted_event_type_is_a_member() -> None:
    kinds = emitted()
    assert len(kinds) >= 15, kinds  # the scan sees the scripts and the notes
    assert kinds <= {member.value for member in JobEventType}
    # The finishing script writes the final status as the event's type.
    finished = {s.value for s in JobStatus if s.finished}
    assert finished <= {member.value for member in JobEventType}


def test_the_openapi_lists_the_event_types_and_statuses() -> None:
    schemas = create_app().openapi()["components"]["schemas"]
    assert set(schemas["JobEventType"]["enum"]) == {m.value for m in JobEventType}
    assert set(schemas["JobStatus"]["enum"]) == {s.value for s in JobStatus}


def test_the_streams_list_every_event_they_send() -> None:
    paths = create_app().openapi()["paths"]
    for path, kinds in (
        ("/v1/jobs/{job_id}/stream", (JobEventType, StreamEventType)),
        ("/v1/studies/{study_id}/stream", (StudyEventType, [s for s in StudyStatus if s.finished])),
    ):
        content = paths[path]["get"]["responses"]["200"]["content"]["text/event-stream"]
        listed = set(content["schema"]["properties"]["event"]["enum"])
        assert listed == {member.value for kind in kinds for member in kind}


def test_every_study_event_and_reaper_outcome_written_is_a_member() -> None:
    study_events = {m.value for m in StudyEventType}
    outcomes = {m.value for m in ReaperOutcome}
    for path in (ROOT / "core").rglob("*.py"):
        text = path.read_text()
        assert not re.findall(r"self\.event\(study_id, \"", text), path  # names, not strings
    requeue = (ROOT / "core" / "store" / "lua" / "requeue_job.lua").read_text()
    returned = set(re.findall(r"return '([a-z_]+)'", requeue))
    assert returned and returned <= outcomes
    assert {"trial_started", "trial_updated", "trial_ended", "end"} <= study_events
