"""Hot-path reads with their SQL built once.

Building a query's SQL through the ORM costs several times what PostgreSQL takes to answer a
primary-key or index lookup; on the endpoints every request goes through (authentication, the first
pages of lists) that compile step dominates. `PreparedSelect` builds the SQL of a simple
`SELECT <columns> FROM <table> [LEFT JOIN <one-to-one>] WHERE <filters> ORDER BY ...` once per
process, with the same column quoting and value converters the ORM uses, and returns plain values;
`PreparedInstance` does the same for one row wanted as a model instance.
"""

import uuid
from collections.abc import Callable, Iterable, Sequence

from django.db import connections, models

_UUID_FIELD = models.UUIDField()


def _prepared(params: Iterable, connection) -> list:
    # What the ORM would send: e.g. a UUID is a native value on PostgreSQL and hex text on SQLite.
    return [_UUID_FIELD.get_db_prep_value(p, connection) if isinstance(p, uuid.UUID) else p for p in params]


class PreparedSelect:
    def __init__(self, model: type[models.Model], fields: Sequence[str], *, where: str, order_by: str = ""):
        """`fields` are attnames of `model`, or `relation__attname` across a forward foreign key or
        one-to-one, or a reverse one-to-one. `where`/`order_by` are SQL over `{table}` / `{related}` aliases
        with %s parameters."""
        self.model = model
        self.fields = list(fields)
        self.where = where
        self.order_by = order_by
        self._compiled: dict[str, tuple[str, list]] = {}

    def _column(self, name: str, connection):
        qn = connection.ops.quote_name
        if "__" in name:
            relation, attname = name.split("__", 1)
            related_model = self.model._meta.get_field(relation).related_model
            field = related_model._meta.get_field(attname)
            alias = "r"
        else:
            field = self.model._meta.get_field(name)
            alias = "t"
        column = field.get_col(alias)
        converters = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        return f"{alias}.{qn(field.column)}", column, converters

    def _from_where(self, connection) -> str:
        qn = connection.ops.quote_name
        sql = f" FROM {qn(self.model._meta.db_table)} t"
        relations = {name.split("__", 1)[0] for name in self.fields if "__" in name}
        for relation in relations:
            field = self.model._meta.get_field(relation)
            related = field.related_model._meta
            if field.concrete:  # forward (foreign key or one-to-one): t.<fk> = r.<pk>
                join = f"t.{qn(field.column)} = r.{qn(related.pk.column)}"
            else:  # reverse one-to-one: r.<fk> = t.<pk>
                join = f"r.{qn(field.field.column)} = t.{qn(self.model._meta.pk.column)}"
            sql += f" LEFT JOIN {qn(related.db_table)} r ON {join}"
        return sql + f" WHERE {self.where}"

    def _compile(self, using: str):
        if using not in self._compiled:
            connection = connections[using]
            columns = [self._column(name, connection) for name in self.fields]
            sql = f"SELECT {', '.join(c[0] for c in columns)}" + self._from_where(connection)
            if self.order_by:
                sql += f" ORDER BY {self.order_by}"
            self._compiled[using] = (sql, [(c[1], c[2]) for c in columns])
        return self._compiled[using]

    def rows(self, params: Iterable, *, suffix: str = "", using: str = "default") -> list[dict]:
        sql, columns = self._compile(using)
        connection = connections[using]
        with connection.cursor() as cursor:
            cursor.execute(sql + suffix, _prepared(params, connection))
            raw_rows = cursor.fetchall()
        result = []
        for raw in raw_rows:
            row = {}
            for name, value, (expression, converters) in zip(self.fields, raw, columns, strict=True):
                for converter in converters:
                    value = converter(value, expression, connection)
                row[name] = value
            result.append(row)
        return result

    def page(self, params: Iterable, *, limit: int, offset: int, using: str = "default") -> list[dict]:
        return self.rows([*params, limit, offset], suffix=" LIMIT %s OFFSET %s", using=using)

    def count(self, params: Iterable, *, using: str = "default") -> int:
        connection = connections[using]
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*)" + self._from_where(connection), _prepared(params, connection))
            return cursor.fetchone()[0]

    def bind(self, *params, build: Callable[[dict], object] | None = None) -> "BoundSelect":
        return BoundSelect(self, params, build)


class BoundSelect:
    """A PreparedSelect with its parameters: counts and slices like a queryset (for `paginate`)."""

    def __init__(self, select: PreparedSelect, params: Sequence, build: Callable[[dict], object] | None):
        self.select = select
        self.params = params
        self.build = build

    def count(self) -> int:
        return self.select.count(self.params)

    def __getitem__(self, window: slice) -> list:
        rows = self.select.page(self.params, limit=window.stop - window.start, offset=window.start)
        return [self.build(row) for row in rows] if self.build else rows


class PreparedInstance:
    """One row as a full model instance, its `SELECT` built once per process (Django's `raw()` then builds
    the instance with the model's own converters): for a hot lookup whose caller needs the model itself.
    `where` is SQL over the table's columns with %s parameters."""

    def __init__(self, model: type[models.Model], *, where: str):
        self.model = model
        self.where = where
        self._sql: dict[str, str] = {}

    def first(self, params: Iterable, *, using: str = "default") -> models.Model | None:
        connection = connections[using]
        if using not in self._sql:
            qn = connection.ops.quote_name
            columns = ", ".join(qn(field.column) for field in self.model._meta.concrete_fields)
            table = qn(self.model._meta.db_table)
            # Names come from the model and values go as parameters.
            self._sql[using] = f"SELECT {columns} FROM {table} WHERE {self.where} LIMIT 1"  # noqa: S608
        rows = list(self.model.objects.db_manager(using).raw(self._sql[using], _prepared(params, connection)))
        return rows[0] if rows else None
