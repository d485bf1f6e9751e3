"""Model fields for encryption at rest (kongchuo.crypto, issue 15 §3).

- ``SealedField``: text stored sealed (bytes in the database); Python code reads and writes
  the plain text. It has no look-ups but ``isnull``: a query that compares a sealed column
  fails loudly instead of never matching (each sealed value has a nonce of its own).
- ``LookupHashField``: the keyed hash of another field, set whenever the row is saved (also by
  ``bulk_create``), by which the value is found, joined and kept unique.
- ``MaskedCopyField``: the masked form of another field, kept beside it so that lists show it
  without decrypting anything.

``bulk_update`` calls no ``pre_save``: ``with_derived`` names the derived fields to add.
"""

from collections.abc import Callable

from django.core.exceptions import FieldError
from django.db import models

from . import crypto
from .masking import mask_id_number, mask_phone


class SealedField(models.CharField):
    """Text sealed with the current key, in a binary column. A field without ``null``
    stores "" as empty bytes (no key needed, nothing to hide); with ``null``, "" and None
    are both stored as NULL. A CharField to forms and serializers (``max_length`` is the
    plain text's)."""

    description = "Encrypted text"

    def db_type(self, connection):
        return connection.data_types["BinaryField"]

    def decode(self, text: str):
        return text

    def encode(self, value) -> str:
        return str(value)

    def to_python(self, value):
        if value is None or value == "":
            return None if self.null else ""
        return self.decode(value) if isinstance(value, str) else value

    def from_db_value(self, value, expression, connection):
        if value is None or not len(value):
            return None if self.null else ""
        return self.decode(crypto.unseal(value))

    def get_db_prep_value(self, value, connection, prepared=False):
        if value is None or value == "":
            return None if self.null else b""
        return crypto.seal(self.encode(value))

    def get_lookup(self, lookup_name):
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)
        raise FieldError(
            f"{self.model.__name__}.{self.name} is encrypted: it cannot be compared in a "
            "query (look it up by its LookupHashField)."
        )

    def get_transform(self, lookup_name):
        return None


class SealedIntegerField(SealedField):
    description = "Encrypted integer"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 11)
        super().__init__(*args, **kwargs)

    def decode(self, text: str):
        return int(text)


class _DerivedField(models.CharField):
    """A column computed from another field of the row whenever the row is saved."""

    length: int

    def __init__(self, *args, source: str, **kwargs):
        self.source = source
        kwargs.setdefault("max_length", self.length)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def derive(self, value):
        raise NotImplementedError

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        return name, path, args, kwargs

    def pre_save(self, model_instance, add):
        value = self.derive(getattr(model_instance, self.source))
        setattr(model_instance, self.attname, value)
        return value


class LookupHashField(_DerivedField):
    """NULL for no value, so that a unique constraint keeps the rows without one apart."""

    length = crypto.LOOKUP_HASH_LENGTH

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("null", True)
        super().__init__(*args, **kwargs)

    def derive(self, value):
        return crypto.lookup_hash(value)


# What a masked copy may mask: kongchuo.masking's rules, by name (a migration names one).
_MASKS = {"id_number": mask_id_number, "phone": mask_phone}


class MaskedCopyField(_DerivedField):
    """``mask``: "id_number" (the default) or "phone"."""

    length = 18

    def __init__(self, *args, mask: str = "id_number", **kwargs):
        self.mask = mask
        super().__init__(*args, **kwargs)

    def derive(self, value):
        return _MASKS[self.mask](value or "")

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.mask != "id_number":
            kwargs["mask"] = self.mask
        return name, path, args, kwargs


def is_derived(field) -> bool:
    return isinstance(field, _DerivedField)


def derived_fields(model, names) -> list[str]:
    """The derived fields of ``model`` computed from any of ``names``."""
    return [
        field.name
        for field in model._meta.concrete_fields
        if isinstance(field, _DerivedField) and field.source in names
    ]


def with_derived(model, names) -> list[str]:
    """``names`` and the fields derived from them, for ``bulk_update(objs, fields=…)``, whose
    objects must have been through ``refresh_derived``."""
    return [*names, *derived_fields(model, names)]


def refresh_derived(obj) -> None:
    """Compute the derived fields of an object that will be saved by ``bulk_update``."""
    for field in obj._meta.concrete_fields:
        if isinstance(field, _DerivedField):
            field.pre_save(obj, add=False)


def derived_or_sealed(model, names) -> bool:
    """Whether any of ``names`` is sealed or has derived fields (so that an UPDATE of many
    rows at once would be wrong)."""
    sealed = {f.name for f in sealed_fields(model)}
    return bool(sealed.intersection(names) or derived_fields(model, names))


def hash_fields(model) -> list[LookupHashField]:
    return [f for f in model._meta.concrete_fields if isinstance(f, LookupHashField)]


def sealed_fields(model) -> list[SealedField]:
    return [f for f in model._meta.concrete_fields if isinstance(f, SealedField)]


# Rows read and written per statement by ``rewrite``.
REWRITE_BATCH = 5000


def rewrite(
    connection,
    model,
    read: list[str],
    write: list[str],
    compute: Callable[[tuple], tuple | None],
    *,
    batch: int = REWRITE_BATCH,
) -> int:
    """Compute columns of every row of ``model``'s table from other columns, in pages by
    primary key, one UPDATE per page: the migrations that seal the plain values and
    ``rotate_keys``. ``compute`` gets the raw values of ``read`` (bytes for a sealed column)
    and gives those of ``write``, or None to leave the row; returns the rows written."""
    quote = connection.ops.quote_name
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    columns = [model._meta.get_field(name).column for name in write]
    types = [model._meta.get_field(name).db_type(connection) for name in write]
    selected = ", ".join(quote(model._meta.get_field(name).column) for name in read)
    assignments = ", ".join(f"{quote(c)} = v.{quote(c)}" for c in columns)
    written, last = 0, None
    while True:
        with connection.cursor() as cursor:
            after = "" if last is None else f" WHERE {pk} > %s"
            cursor.execute(
                # Names quoted from the model, values as parameters (also below).
                f"SELECT {pk}, {selected} FROM {table}{after} ORDER BY {pk} LIMIT %s",  # noqa: S608
                ([] if last is None else [last]) + [batch],
            )
            rows = cursor.fetchall()
            if not rows:
                return written
            last = rows[-1][0]
            changed = []
            for row in rows:
                values = compute(
                    tuple(bytes(v) if isinstance(v, memoryview) else v for v in row[1:])
                )
                if values is not None:
                    changed.append((row[0], *values))
            if not changed:
                continue
            if connection.vendor == "postgresql":
                from psycopg2.extras import execute_values

                template = "(%s, " + ", ".join(f"%s::{t}" for t in types) + ")"
                names = ", ".join(["id", *(quote(c) for c in columns)])
                execute_values(
                    cursor.cursor,
                    f"UPDATE {table} SET {assignments} FROM (VALUES %s) AS v({names})"  # noqa: S608
                    f" WHERE {table}.{pk} = v.id",
                    changed,
                    template=template,
                    page_size=len(changed),
                )
            else:
                sets = ", ".join(f"{quote(c)} = %s" for c in columns)
                cursor.executemany(
                    f"UPDATE {table} SET {sets} WHERE {pk} = %s",  # noqa: S608
                    [(*values, pk_value) for pk_value, *values in changed],
                )
            written += len(changed)


def raw_rows(model) -> Callable[[dict], dict] | None:
    """For the writers of raw rows (COPY, bulk INSERT of dicts): a function that turns a row
    of plain values (attnames) into the stored ones — the derived fields computed, the
    sealed values sealed, as COPY's text form of bytea — or None if ``model`` has neither."""
    derived = [f for f in model._meta.concrete_fields if isinstance(f, _DerivedField)]
    sealed = sealed_fields(model)
    if not (derived or sealed):
        return None

    # get_db_prep_value's rules, unrolled: a list of a million rows calls this for each.
    columns = [(field.attname, field.null, field.encode) for field in sealed]

    def stored(row: dict) -> dict:
        row = dict(row)
        for field in derived:
            row[field.attname] = field.derive(row.get(field.source))
        for name, null, encode in columns:
            value = row.get(name)
            if value is None or value == "":
                row[name] = None if null else "\\x"
            else:
                row[name] = "\\x" + crypto.seal(encode(value)).hex()
        return row

    return stored
