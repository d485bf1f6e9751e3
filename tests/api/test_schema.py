"""The schema documents what the API really answers (issue 10 §7): the error answers of every
operation with their one body shape, and optional choices as nullable, answered null."""

import pytest

from ledger.choices import State

pytestmark = pytest.mark.django_db

METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture
def schema(world):
    response = world.token_client("xian_staff").get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def _operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def test_every_operation_documents_its_error_answers(schema):
    error = {"$ref": "#/components/schemas/Error"}
    operations = list(_operations(schema))
    assert len(operations) >= 40
    for path, method, operation in operations:
        responses = operation["responses"]
        expected = {"400", "404"}
        if path != "/api/v1/auth/token/":
            expected |= {"401", "403"}
        if "requestBody" in operation:
            expected.add("415")
        assert expected <= set(responses), (method, path, sorted(responses))
        for status in expected:
            assert responses[status]["content"]["application/json"]["schema"] == error
            assert responses[status]["description"]


def test_the_token_endpoint_documents_429_and_needs_no_login(schema):
    responses = schema["paths"]["/api/v1/auth/token/"]["post"]["responses"]
    assert "429" in responses and "401" not in responses and "403" not in responses


def test_the_error_body_shape(schema):
    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["detail"]
    assert error["properties"]["detail"]["type"] == "string"
    assert error["properties"]["errors"]["type"] == "object"


def test_an_api_error_has_that_shape(world):
    body = world.token_client("xian_staff").get("/api/v1/students/", {"school": "x"}).json()
    assert set(body) == {"detail", "errors"} and isinstance(body["errors"]["school"], list)


@pytest.mark.parametrize(
    ("component", "field"),
    [
        ("Student", "disability_type"),
        ("LedgerEntry", "closure_reason"),
        ("LedgerEntry", "record_check"),
        ("LedgerEntryDetail", "closure_reason"),
        ("EntryEvent", "state_before"),
    ],
)
def test_optional_choices_in_answers_are_nullable_not_blank(schema, component, field):
    prop = schema["components"]["schemas"][component]["properties"][field]
    assert prop["nullable"] is True
    refs = {option["$ref"].rsplit("/", 1)[1] for option in prop["oneOf"]}
    assert "NullEnum" in refs and "BlankEnum" not in refs


def test_the_input_side_of_disability_type_still_takes_blank(schema):
    prop = schema["components"]["schemas"]["StudentInput"]["properties"]["disability_type"]
    refs = {option["$ref"].rsplit("/", 1)[1] for option in prop["oneOf"]}
    assert "BlankEnum" in refs


def test_blank_choices_are_answered_null(world):
    from ledger import services
    from tests.ledger.conftest import entry_data, make_student

    student = make_student(world, disability_type="")
    entry = services.entry_create(by=world.user("xz1_xx1_guanli"), data=entry_data(student))
    client = world.token_client("xian_staff")

    shown = client.get(f"/api/v1/students/{student.pk}/").json()
    assert shown["disability_type"] is None
    listed = client.get("/api/v1/ledger-entries/").json()["results"]
    assert [row["closure_reason"] for row in listed if row["id"] == entry.pk] == [None]
    detail = client.get(f"/api/v1/ledger-entries/{entry.pk}/").json()
    created = detail["events"][0]
    assert created["state_before"] is None and created["state_after"] == State.PENDING
    assert detail["closure_reason"] is None


def test_a_set_choice_is_still_its_value(world):
    from tests.ledger.conftest import make_student

    student = make_student(
        world, disability_type="hearing", disability_grade=2, key_groups={"disabled"}
    )
    shown = world.token_client("xian_staff").get(f"/api/v1/students/{student.pk}/").json()
    assert shown["disability_type"] == "hearing"
