"""Views of the exports blueprint: my lots, bids, allocations, awards and shipments as CSV or XLSX."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, abort
from flask_babel import get_locale
from flask_login import current_user

from app.extensions import db
from app.permissions import roles_required
from app.services import exports
from app.services.errors import PermissionDenied
from app.services.spreadsheets import write_csv, write_xlsx

blueprint = Blueprint("exports", __name__, url_prefix="/exports")
MIMETYPES = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@blueprint.route("/<any(lots, bids, allocations, awards, shipments):what>.<any(csv, xlsx):fmt>")
@roles_required("producer", "recycler")
def download(what: str, fmt: str):
    """One table of the organisation's own records, for Excel or WPS."""
    try:
        header, rows = exports.table(db.session, current_user.row, what, str(get_locale()))
    except PermissionDenied:
        abort(403)
    content = write_csv(header, rows) if fmt == "csv" else write_xlsx(what, header, rows)
    name = f"gufei-{what}-{dt.date.today().isoformat()}.{fmt}"
    return Response(content, mimetype=MIMETYPES[fmt], headers={"Content-Disposition": f"attachment; filename={name}"})
