"""Recovery codes were django-otp StaticTokens, stored as the codes themselves (issue 15
§2): each becomes a RecoveryCode holding only its salted SHA-256 digest (the same form as
accounts.two_factor.recovery_digest, restated here as a migration must), and the tokens and
their devices are deleted. The codes people wrote down keep working, once each. Going back
cannot turn a digest into its code again: the codes are gone then, the authenticators stay,
and an account gets new codes by switching two-factor off and on again."""

import hashlib
import secrets

from django.db import migrations


def _digest(code: str) -> str:
    cleaned = "".join(code.split()).replace("-", "").lower()
    salt = secrets.token_hex(8)
    return f"{salt}${hashlib.sha256(f'{salt}${cleaned}'.encode()).hexdigest()}"


def hash_codes(apps, schema_editor):
    StaticDevice = apps.get_model("otp_static", "StaticDevice")
    StaticToken = apps.get_model("otp_static", "StaticToken")
    RecoveryCode = apps.get_model("accounts", "RecoveryCode")
    tokens = StaticToken.objects.filter(device__confirmed=True).values_list(
        "device__user_id", "token"
    )
    RecoveryCode.objects.bulk_create(
        [RecoveryCode(user_id=user_id, digest=_digest(token)) for user_id, token in tokens],
        batch_size=1000,
    )
    StaticToken.objects.all().delete()
    StaticDevice.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0018_recovery_code_digests"),
        ("otp_static", "0003_add_timestamps"),
    ]

    operations = [migrations.RunPython(hash_codes, migrations.RunPython.noop)]
