"""This part's records in the jurisdiction matrix (issue 17; tests/jurisdiction_cases.py adds
them): the offline home visit of a case, taken by whoever may record a 劝返记录 on it."""

import uuid

from returns.choices import Action
from tests.jurisdiction_cases import (
    _CASE_API_BODIES,
    Endpoint,
    _case_may,
    _case_took,
    _member_may,
    _working_case,
)

ENDPOINTS = [
    Endpoint(
        "return case offline visit API POST",
        "/api/v1/return-cases/{pk}/offline-visit/",
        _working_case,
        method="post",
        body=lambda case: {
            **_CASE_API_BODIES[Action.ACTION](case),
            "client_id": str(uuid.uuid4()),
            "base_version": case.version,
        },
        done=_case_took(Action.ACTION),
        allowed=_case_may(Action.ACTION),
        team_member=_member_may(Action.ACTION),
    ),
]
LIST_ENDPOINTS: list = []
