"""Issue 15 §1–2's records in the jurisdiction matrix (tests/jurisdiction_cases.py adds
them): an account's tokens and two-factor, managed by its county's administrator."""

from tests.jurisdiction_cases import COUNTY_ADMIN_ONLY, Endpoint, _account


def _with_token(prefix):
    from accounts import tokens

    account = _account(prefix)
    tokens.issue(user=account, name="矩阵")
    return account


def _enrolled(prefix):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    account = _account(prefix)
    TOTPDevice.objects.create(user=account, name="矩阵", confirmed=True)
    return account


def _live_token(account):
    from accounts import tokens

    return tokens.live(account).first()


ENDPOINTS = [
    Endpoint(
        "account security page",
        "/accounts/{pk}/security/",
        _account,
        allowed=COUNTY_ADMIN_ONLY,
    ),
    Endpoint(
        "account token revoke",
        "/accounts/{pk}/tokens/revoke/",
        _with_token,
        method="post",
        allowed=COUNTY_ADMIN_ONLY,
        body=lambda account: {"token": _live_token(account).pk},
        done=lambda account: _live_token(account) is None,
    ),
    Endpoint(
        "account two-factor reset",
        "/accounts/{pk}/two-factor/reset/",
        _enrolled,
        method="post",
        allowed=COUNTY_ADMIN_ONLY,
        body=lambda account: {},
        done=lambda account: not _is_enrolled(account),
    ),
]
LIST_ENDPOINTS: list = []


def _is_enrolled(account):
    from accounts import two_factor

    return two_factor.is_enrolled(account)
