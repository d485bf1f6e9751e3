"""Key rotation of the encrypted fields (issue 15 §3; README, 安全).

- ``rotate_keys --new-key`` prints a new key (for FIELD_ENCRYPTION_KEYS or LOOKUP_HASH_KEY).
- ``rotate_keys``: with the new key first in FIELD_ENCRYPTION_KEYS and the old one after it,
  seals again every value sealed with another key; afterwards the old key can be dropped.
- ``rotate_keys --lookup-hash``: with the new LOOKUP_HASH_KEY set (and the application
  stopped: look-ups by the old hashes fail meanwhile), computes every look-up hash afresh.

Everything in one transaction: an interrupted run changes nothing.
"""

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from kongchuo import crypto, sealed


class Command(BaseCommand):
    help = (
        "Seal the encrypted fields with the current key; --lookup-hash: recompute look-up hashes."
    )

    def add_arguments(self, parser):
        parser.add_argument("--new-key", action="store_true", help="print a new random key")
        parser.add_argument(
            "--lookup-hash",
            action="store_true",
            help="recompute the look-up hashes with LOOKUP_HASH_KEY",
        )

    def handle(self, *args, new_key=False, lookup_hash=False, **options):
        if new_key:
            self.stdout.write(crypto.new_key())
            return
        crypto.reset()
        try:
            with transaction.atomic():
                for model in apps.get_models():
                    if sealed.sealed_fields(model):
                        self._rotate(model, lookup_hash)
        except crypto.SealError as exc:
            raise CommandError(f"{exc}; nothing was changed.") from exc

    def _rotate(self, model, lookup_hash: bool) -> None:
        read = [f.name for f in sealed.sealed_fields(model)]
        hashes = sealed.hash_fields(model) if lookup_hash else []
        sources = [read.index(field.source) for field in hashes]

        def compute(row: tuple):
            stale = [bool(value) and not crypto.is_current(value) for value in row]
            if not (any(stale) or hashes):
                return None
            plain = [crypto.unseal(value) if value else None for value in row]
            resealed = [
                crypto.seal(text) if old else value
                for value, text, old in zip(row, plain, stale, strict=True)
            ]
            return (*resealed, *(crypto.lookup_hash(plain[i]) for i in sources))

        written = sealed.rewrite(
            connection, model, read, [*read, *(f.name for f in hashes)], compute
        )
        self.stdout.write(f"{model._meta.label}: {written} 行已更新")
