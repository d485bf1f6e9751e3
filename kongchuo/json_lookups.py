"""``field__has_value=x`` on a JSON field that holds a list of scalars: the rows whose list has
``x`` as one of its elements (a whole element, never part of one), in SQL that an index can
serve.

- PostgreSQL: ``col @> '["x"]'::jsonb``, answered from a GIN index with ``jsonb_path_ops``
  (``gin_index_operation`` creates one in a migration);
- SQLite: ``EXISTS (SELECT 1 FROM json_each(col) WHERE value = 'x')``, exact and correct
  (SQLite has no index for it; it serves ``make run``, not a province).

Register it on the fields whose value is such a list, not on every JSON field, so that a
field holding an object does not offer a lookup that means nothing for it::

    LedgerEntry._meta.get_field("key_groups").register_lookup(HasValue)
"""

import json

from django.db import NotSupportedError, migrations
from django.db.models import Func, IntegerField, Lookup


class HasValue(Lookup):
    lookup_name = "has_value"
    # The value is one element of the list, not a JSON document: JSONField must not encode it.
    prepare_rhs = False

    def _element(self):
        if not isinstance(self.rhs, str | int) or isinstance(self.rhs, bool):
            raise TypeError(f"has_value takes a string or an integer, not {self.rhs!r}.")
        return self.rhs

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} @> %s::jsonb", (*lhs_params, json.dumps([self._element()]))

    def as_sqlite(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        # json_each yields each element of the top-level array with its SQL value; a string
        # element is TEXT and never equals an INTEGER element, as in JSON. ``lhs`` is the
        # compiled column and the value a parameter, so nothing user-written enters the SQL.
        sql = (
            f"EXISTS (SELECT 1 FROM json_each({lhs}) AS has_value_element"  # noqa: S608
            " WHERE has_value_element.value = %s)"
        )
        return sql, (*lhs_params, self._element())

    def as_sql(self, compiler, connection):
        raise NotSupportedError(f"has_value is not implemented for {connection.vendor}.")


def gin_index_operation(table: str, column: str, name: str) -> migrations.RunPython:
    """A migration operation creating a ``jsonb_path_ops`` GIN index on ``table.column`` for
    ``has_value`` (PostgreSQL only; other databases have no such index and need none)."""
    create = (
        f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" USING gin ("{column}" jsonb_path_ops)'
    )
    drop = f'DROP INDEX IF EXISTS "{name}"'

    def run(sql):
        def apply(apps, schema_editor):
            if schema_editor.connection.vendor == "postgresql":
                schema_editor.execute(sql, params=None)

        return apply

    return migrations.RunPython(run(create), run(drop))


class ArrayLength(Func):
    """The number of elements of a JSON list column, counted in the database so that a list
    page need not load the lists (``jsonb_array_length`` / SQLite's ``json_array_length``)."""

    function = "json_array_length"
    output_field = IntegerField()

    def as_postgresql(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, function="jsonb_array_length", **extra)
