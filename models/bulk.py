"""Bulk statements: many rows in one round trip on PostgreSQL (COPY, or a JSON record set when ids come back),
executemany elsewhere."""
from __future__ import annotations

import json
from collections import namedtuple
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa


def insert_rows(connection: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]],
                returning: Sequence[str] = ()) -> list[sa.Row]:
    """Insert rows in order (ids ascend with the rows); returns the `returning` columns in the same order.

    On PostgreSQL with psycopg 3 a ``COPY … FROM STDIN`` (ids asked for are drawn from the sequence
    beforehand); with another driver one ``INSERT … SELECT FROM json_populate_recordset(rows) WITH
    ORDINALITY ORDER BY ordinality``: a single short statement and one parameter whatever the number of
    rows. Elsewhere an executemany.
    """
    if not rows:
        return []
    if connection.dialect.name != "postgresql":
        if returning:
            stmt = table.insert().returning(*(table.c[c] for c in returning), sort_by_parameter_order=True)
            return list(connection.execute(stmt, list(rows)).all())
        connection.execute(table.insert(), list(rows))
        return []
    names = list(rows[0])
    if _copying(connection) is not None:
        if not returning:
            _copy_rows(connection, table, names, rows)
            return []
        if "id" not in names and set(returning) <= {"id", *names}:
            # Ids drawn from the table's sequence first (one query), so COPY can still be used.
            rows = [{"id": i, **row} for i, row in zip(draw_ids(connection, table, len(rows)), rows, strict=True)]
            _copy_rows(connection, table, ["id", *names], rows)
            shape = namedtuple("Inserted", list(returning))  # noqa: PYI024 - attribute access like sa.Row
            return [shape(*(row[c] for c in returning)) for row in rows]
    quoted = ", ".join(f'"{n}"' for n in names)
    selected = ", ".join(f'v."{n}"' for n in names)
    # Names come from the rows' keys, which must be the table's columns (checked here); values travel as one
    # JSON parameter that PostgreSQL parses into typed records in C.
    for name in names:
        table.c[name]  # noqa: B018 - raises KeyError for a name that is not a column
    source = (f'json_populate_recordset(NULL::"{table.name}", CAST(:rows AS JSON)) WITH ORDINALITY AS v '
              "ORDER BY v.ordinality")
    sql = f'INSERT INTO "{table.name}" ({quoted}) SELECT {selected} FROM {source}'  # noqa: S608
    if returning:
        sql += " RETURNING " + ", ".join(f'"{table.c[c].name}"' for c in returning)
    result = connection.execute(sa.text(sql), {"rows": json.dumps(list(rows), default=str, ensure_ascii=False)})
    return list(result.all()) if returning else []


def draw_ids(connection: sa.Connection, table: sa.Table, n: int) -> list[int] | None:
    """``n`` new ids from the table's sequence, ascending (one query); None where rows get ids only on insert.

    Rows given these ids can be inserted without asking for them back (PostgreSQL's COPY cannot return any).
    """
    if connection.dialect.name != "postgresql" or _copying(connection) is None:
        return None
    return sorted(connection.execute(sa.text(
        "SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"),
        {"table": table.name, "n": n}).scalars().all())


# json.dumps(value, default=str, ensure_ascii=False) exactly, without building an encoder per value.
_ENCODE_JSON = json.JSONEncoder(default=str, ensure_ascii=False).encode


def _copying(connection: sa.Connection):
    """The psycopg (3) connection under `connection` (it speaks COPY from Python), or None with another driver."""
    raw = connection.connection.driver_connection
    return raw if hasattr(raw, "cursor") and hasattr(raw, "pipeline") else None


def _copy_rows(connection: sa.Connection, table: sa.Table, names: list[str], rows: Sequence[dict[str, Any]]) -> None:
    """``COPY table (names) FROM STDIN``: no per-statement JSON to parse into records (measured about 40 %
    less server time than the record set for the ~10,000 audit events of a run at 5,000 lots); rows are
    inserted in order, so serial ids still ascend with them."""
    at_json = [k for k, n in enumerate(names) if isinstance(table.c[n].type, sa.JSON)]
    columns = ", ".join(f'"{table.c[n].name}"' for n in names)
    with _copying(connection).cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
        for row in rows:
            values = [row[n] for n in names]  # psycopg's dumpers: str, numbers, Decimal, dates, None
            for k in at_json:
                if values[k] is not None:
                    values[k] = _ENCODE_JSON(values[k])
            copy.write_row(values)
