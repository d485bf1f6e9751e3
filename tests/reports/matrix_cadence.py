"""This part's records in the jurisdiction matrix (tests/jurisdiction_cases.py adds them)."""

ENDPOINTS = []
LIST_ENDPOINTS = []
