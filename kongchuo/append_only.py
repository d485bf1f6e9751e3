"""Append-only tables (audit trail, 学籍 events): the ORM refuses edits and deletes, and on
PostgreSQL a trigger makes the database itself refuse UPDATE and DELETE."""

from django.db import migrations, models

_REFUSED = "只能追加，不能修改或删除。"


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError(f"{self.model._meta.verbose_name}{_REFUSED}")

    def delete(self):
        raise PermissionError(f"{self.model._meta.verbose_name}{_REFUSED}")


class AppendOnlyModel(models.Model):
    """A model whose rows are never changed once written. Its manager refuses bulk updates
    and deletes; a model whose rows are also scoped by jurisdiction sets ``objects`` to
    ``accounts.jurisdiction.AppendOnlyScopedQuerySet.as_manager()``."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError(f"{self._meta.verbose_name}{_REFUSED}")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError(f"{self._meta.verbose_name}{_REFUSED}")


def trigger_operation(table: str) -> migrations.RunPython:
    """A migration operation installing the refusing trigger on ``table`` (PostgreSQL only)."""
    function = f"{table}_append_only"
    create = f"""
    CREATE OR REPLACE FUNCTION {function}() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION '{table} is append-only: %% refused', TG_OP;
    END;
    $$ LANGUAGE plpgsql;
    CREATE TRIGGER {function} BEFORE UPDATE OR DELETE ON {table}
        FOR EACH ROW EXECUTE FUNCTION {function}();
    """
    drop = f"DROP TRIGGER IF EXISTS {function} ON {table}; DROP FUNCTION IF EXISTS {function}();"

    def run(sql):
        def apply(apps, schema_editor):
            if schema_editor.connection.vendor == "postgresql":
                schema_editor.execute(sql.replace("%%", "%"), params=None)

        return apply

    return migrations.RunPython(run(create), run(drop))
