"""Bulk statements: many rows in one round trip on PostgreSQL (a JSON record set), executemany elsewhere."""
from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa


def insert_rows(connection: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]],
                returning: Sequence[str] = ()) -> list[sa.Row]:
    """Insert rows in order (ids ascend with the rows); returns the `returning` columns in the same order.

    On PostgreSQL one ``INSERT … SELECT FROM json_populate_recordset(rows) WITH ORDINALITY ORDER BY
    ordinality``: a single short statement and one parameter whatever the number of rows. Elsewhere an
    executemany.
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
