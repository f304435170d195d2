"""Bulk statements: many rows in one round trip (PostgreSQL arrays through unnest), executemany elsewhere."""
from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa


def _array_param(column: sa.Column, values: list[Any], dialect) -> tuple[list[Any], str]:
    """The values as an array parameter and the SQL element type to cast it to."""
    if isinstance(column.type, sa.JSON):
        # JSON travels as text and is cast element-wise; NULL stays NULL.
        return [None if v is None else json.dumps(v, default=str, ensure_ascii=False) for v in values], "JSON"
    return values, column.type.compile(dialect=dialect)


def insert_rows(connection: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]],
                returning: Sequence[str] = ()) -> list[sa.Row]:
    """Insert rows in order (ids ascend with the rows); returns the `returning` columns in the same order.

    On PostgreSQL one ``INSERT … SELECT FROM unnest(arrays) WITH ORDINALITY ORDER BY ordinality``: a single
    short statement whatever the number of rows. Elsewhere an executemany.
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
    params, arrays = {}, []
    for k, name in enumerate(names):
        values, sql_type = _array_param(table.c[name], [r[name] for r in rows], connection.dialect)
        params[f"p{k}"] = values
        cast = f"CAST(:p{k} AS TEXT[])::JSON[]" if sql_type == "JSON" else f"CAST(:p{k} AS {sql_type}[])"
        arrays.append(cast)
    quoted = ", ".join(f'"{n}"' for n in names)
    # Names come from the table's own columns (checked by table.c above), values travel as parameters.
    source = f'unnest({", ".join(arrays)}) WITH ORDINALITY AS v({quoted}, ordinal) ORDER BY ordinal'
    sql = f'INSERT INTO "{table.name}" ({quoted}) SELECT {quoted} FROM {source}'  # noqa: S608
    if returning:
        sql += " RETURNING " + ", ".join(f'"{c}"' for c in returning)
        return list(connection.execute(sa.text(sql), params).all())
    connection.execute(sa.text(sql), params)
    return []
