"""The comparisons API (issue 13, Interfaces): start a run, read its progress and the
mismatches, record a disposition and take the follow-ups — the same services and the same
jurisdiction as the pages (rule 6)."""

import pytest

from comparisons.choices import Disposition, MismatchKind, RunStatus, SourceKind, Strength
from comparisons.models import Mismatch, Run
from ledger import services as ledger_services
from ledger.choices import EntryKind
from ledger.models import LedgerEntry
from students.models import Student
from tests.comparisons.results import (
    COUNTY_B,
    first_school,
    make_mismatch,
    make_run,
    make_source,
    not_enrolled,
)
from tests.comparisons.test_services import COMPLETION
from tests.ledger.conftest import make_student, unenrolled_data

pytestmark = pytest.mark.django_db

COUNTY, SCHOOL, TOWNSHIP = "xian_staff", "xz1_xx1_guanli", "xz1_ganbu"
RUNS, MISMATCHES = "/api/v1/comparisons/runs/", "/api/v1/comparisons/mismatches/"


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def handled(mismatch) -> str | None:
    found = Mismatch.objects.select_related("handled").get(pk=mismatch.pk).handled
    return found.disposition if found else None


def test_runs_are_the_countys_with_their_progress(world):
    running = make_run(make_source(), status=RunStatus.RUNNING)
    make_run(make_source(COUNTY_B))
    client = world.token_client(COUNTY)
    assert ids(client.get(RUNS)) == {running.pk}
    detail = client.get(f"{RUNS}{running.pk}/").json()
    assert detail["progress"]["percent"] == 40 and detail["progress"]["finished"] is False
    assert detail["status_display"] == "比对中" and detail["started_by"] is None
    assert ids(client.get(RUNS, {"status": "done"})) == set()
    assert client.get(RUNS, {"status": "bogus"}).status_code == 400
    assert ids(world.token_client(TOWNSHIP).get(RUNS)) == set()


def test_a_run_is_started_for_an_uploaded_list_and_cancelled(world):
    source = make_source()
    client = world.token_client(COUNTY)
    response = client.post(RUNS, {"source": source.pk}, format="json")
    assert response.status_code == 201, response.content
    run = Run.objects.get(pk=response.json()["id"])
    assert run.source == source and run.status == RunStatus.QUEUED
    # A second start while it is queued hands back the same run.
    again = client.post(RUNS, {"source": source.pk}, format="json")
    assert again.json()["id"] == run.pk and Run.objects.count() == 1
    cancelled = client.post(f"{RUNS}{run.pk}/cancel/")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == RunStatus.CANCELLED
    other = make_source(COUNTY_B)
    refused = client.post(RUNS, {"source": other.pk}, format="json")
    assert refused.status_code == 400 and "source" in refused.json()["errors"]
    assert world.token_client(TOWNSHIP).post(RUNS, {"source": source.pk}).status_code == 403


def test_mismatches_are_listed_by_area_with_the_pages_filters_and_masked_ids(world):
    """Rule 6: a school its own, a township its own, the county all."""
    run = make_run(make_source())
    mine = make_mismatch(run, key="mine", school=first_school(), township=None)
    township = make_mismatch(run, key="township", strength=Strength.WEAK)
    not_enrolled(COUNTY_B)
    assert ids(world.token_client(COUNTY).get(MISMATCHES)) == {mine.pk, township.pk}
    assert ids(world.token_client(SCHOOL).get(MISMATCHES)) == {mine.pk}
    assert ids(world.token_client(TOWNSHIP).get(MISMATCHES)) == {mine.pk, township.pk}
    client = world.token_client(COUNTY)
    assert ids(client.get(MISMATCHES, {"strength": "weak"})) == {township.pk}
    assert ids(client.get(MISMATCHES, {"school": mine.school_id})) == {mine.pk}
    assert ids(client.get(MISMATCHES, {"handled": "true"})) == set()
    assert client.get(MISMATCHES, {"handled": "yes"}).status_code == 400
    row = client.get(f"{MISMATCHES}{township.pk}/").json()
    assert row["id_number"] == township.masked_id_number != township.id_number
    assert row["details"] == {"名单": "户籍在本乡镇", "系统": "无学籍"}
    assert row["handled"] is None
    assert set(row["follow_ups"]) == {"open-entry", "link-student", "explain"}


def test_a_disposition_is_recorded_through_the_api(world):
    mismatch = not_enrolled()
    client = world.token_client(TOWNSHIP)
    url = f"{MISMATCHES}{mismatch.pk}/dispose/"
    refused = client.post(url, {"disposition": "explained"}, format="json")
    assert refused.status_code == 400 and "note" in refused.json()["errors"]
    response = client.post(url, {"disposition": "explained", "note": "已迁往外省"}, format="json")
    assert response.status_code == 200, response.content
    made = response.json()["handled"]
    assert made["disposition"] == "explained" and made["note"] == "已迁往外省" and made["by"]
    assert response.json()["follow_ups"] == []
    # Only correct-flag corrects a flag; the choice is not offered here.
    other = not_enrolled()
    refused = client.post(
        f"{MISMATCHES}{other.pk}/dispose/", {"disposition": "flag_corrected"}, format="json"
    )
    assert refused.status_code == 400


def test_an_entry_opened_elsewhere_is_recorded_against_the_mismatch(world):
    entry = ledger_services.entry_create(by=world.user(COUNTY), data=unenrolled_data(world))
    mismatch = not_enrolled()
    client = world.token_client(COUNTY)
    url = f"{MISMATCHES}{mismatch.pk}/dispose/"
    missing = client.post(url, {"disposition": "entry_opened"}, format="json")
    assert "entry" in missing.json()["errors"]
    response = client.post(url, {"disposition": "entry_opened", "entry": entry.pk}, format="json")
    assert response.json()["handled"]["entry"] == entry.pk


def test_open_entry_through_the_api_takes_the_lists_data(world):
    mismatch = not_enrolled()
    client = world.token_client(COUNTY)
    response = client.post(f"{MISMATCHES}{mismatch.pk}/open-entry/", COMPLETION, format="json")
    assert response.status_code == 201, response.content
    entry = LedgerEntry.objects.get()
    assert entry.kind == EntryKind.NOT_ENROLLED and entry.name == mismatch.name
    assert entry.id_number == mismatch.id_number
    assert response.json()["handled"]["entry"] == entry.pk
    again = not_enrolled()
    incomplete = {**COMPLETION, "department_opinion": ""}
    refused = client.post(f"{MISMATCHES}{again.pk}/open-entry/", incomplete, format="json")
    assert refused.status_code == 400 and "department_opinion" in refused.json()["errors"]


def test_correct_flag_through_the_api_needs_the_students_permission(world):
    student = make_student(world)
    run = make_run(make_source(kind=SourceKind.POVERTY))
    mismatch = make_mismatch(
        run, kind=MismatchKind.POVERTY_FLAG, student=student, strength=Strength.ID
    )
    url = f"{MISMATCHES}{mismatch.pk}/correct-flag/"
    assert world.token_client(TOWNSHIP).post(url, {}, format="json").status_code == 403
    response = world.token_client(COUNTY).post(url, {}, format="json")
    assert response.status_code == 200, response.content
    assert Student.objects.get(pk=student.pk).poverty_registered
    assert handled(mismatch) == Disposition.FLAG_CORRECTED


def test_another_countys_mismatch_is_404_and_a_read_only_role_is_403(world):
    elsewhere = not_enrolled(COUNTY_B)
    client = world.token_client(COUNTY)
    assert client.get(f"{MISMATCHES}{elsewhere.pk}/").status_code == 404
    response = client.post(
        f"{MISMATCHES}{elsewhere.pk}/dispose/", {"disposition": "explained", "note": "x"}
    )
    assert response.status_code == 404 and handled(elsewhere) is None
    mine = not_enrolled()
    response = world.token_client("shi_dudao").post(
        f"{MISMATCHES}{mine.pk}/dispose/", {"disposition": "explained", "note": "x"}
    )
    assert response.status_code == 403 and handled(mine) is None


def test_a_mismatch_of_an_earlier_run_is_found_by_id(world):
    source = make_source()
    earlier = make_mismatch(make_run(source), key="k")
    make_mismatch(make_run(source), key="k")
    client = world.token_client(COUNTY)
    assert earlier.pk not in ids(client.get(MISMATCHES))
    assert earlier.pk in ids(client.get(MISMATCHES, {"run": earlier.run_id}))
    assert client.get(f"{MISMATCHES}{earlier.pk}/").json()["run"] == earlier.run_id
