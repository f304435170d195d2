"""Views of the lots blueprint: browse (list and map), post, edit, withdraw, import, documents."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from app import i18n, policy
from app.actions import perform, show_error
from app.extensions import db
from app.labels import LOT_STATE, label
from app.lots.forms import (
    AnswerForm,
    DocumentForm,
    LotFilterForm,
    LotForm,
    LotImportForm,
    QuestionForm,
    filter_field,
    lot_form_class,
)
from app.permissions import allowed
from app.services import catalogue, facilities, guidance, lot_import, lots, questions, uploads
from app.services.errors import PermissionDenied, ServiceError
from app.services.spreadsheets import ImportRejected
from models import Facility, Lot, LotDocument, LotQuestion, Organization, ResourceBase

blueprint = Blueprint("lots", __name__, url_prefix="/lots")
blueprint.add_app_template_global(filter_field, "filter_field")
LOT_FIELDS = (
    "facility",
    "category",
    "tonnes",
    "reserve_yuan_per_t",
    "available_from",
    "available_to",
    "min_shipment_t",
    "settle_on",
    "transfer_approval_ref",
    "waste_form",
    "hazard_characteristics",
    "packaging_type",
)


def _my_facilities() -> list:
    """The viewer's facilities as (id, name, lon, lat) rows (none for anonymous visitors)."""
    if not current_user.is_authenticated:
        return []
    return facilities.my_places(db.session, current_user.row)


def _filters(locale: str) -> tuple[LotFilterForm, lots.LotFilters]:
    """The filter form from the query string and the service filters it means."""
    form = LotFilterForm(request.args)
    form.category.choices = catalogue.with_blank(catalogue.category_choices(db.session, locale))
    form.prefecture.choices = catalogue.with_blank(catalogue.prefecture_choices(locale))
    base_name = ResourceBase.name_zh if locale.startswith("zh") else ResourceBase.name_en
    form.base.choices = catalogue.with_blank(
        [(str(i), name) for i, name in db.session.execute(sa.select(ResourceBase.id, base_name)
                                                          .order_by(ResourceBase.id))]
    )
    mine = {str(f.id): f for f in _my_facilities()}
    form.near.choices = catalogue.with_blank([(k, f.name) for k, f in mine.items()])
    if not form.validate():
        return form, lots.LotFilters()
    near = mine.get(form.near.data or "")
    return form, lots.LotFilters(
        category=form.category.data or None,
        prefecture=form.prefecture.data or None,
        base_id=int(form.base.data) if form.base.data else None,
        min_tonnes=form.min_tonnes.data,
        max_tonnes=form.max_tonnes.data,
        available_by=form.available_by.data,
        available_until=form.available_until.data,
        near=(near.lon, near.lat) if near else None,
        max_km=float(form.max_km.data) if near and form.max_km.data else None,
        keyword=(form.q.data or "").strip() or None,
        min_price=form.min_price.data,
        max_price=form.max_price.data,
        sort=form.sort.data if (form.sort.data != "distance" or near) else "newest",
    )


@blueprint.route("")
def index():
    """Browse open lots with filters, sorting and pagination; `?view=map` shows them on a map."""
    locale = str(get_locale())
    form, filters = _filters(locale)
    if request.args.get("view") == "map":
        return _map_page(form)
    per_page = current_app.config["LOTS_PER_PAGE"]
    try:
        page, status = lots.search(db.session, filters, request.args.get("page", 1, type=int), per_page,
                                   lots.LIST_LOAD), 200
    except ServiceError as exc:
        # Keywords too long or too many: say so beside the box, keep what was typed, list nothing.
        form.q.errors = [*form.q.errors, exc.message]
        page, status = lots.Page(items=[], page=1, per_page=per_page, total=0), 400
    photos = (uploads.first_photo_ids(db.session, [lot.id for lot in page.items]) if current_user.is_authenticated
              else {})
    return render_template(
        "lots/index.html", form=form, page=page, rows=_list_rows(page.items, locale), photos=photos,
    ), status


@dataclass(frozen=True)
class ListRow:
    """One row of the lots list, as shown: worked out in Python once per row instead of through a dozen
    template globals and macros per row (the list was the costliest part of a search page)."""

    id: int
    href: str
    title: str
    state: str
    state_label: str
    category: str
    prefecture: str
    tonnes: str
    reserve: str
    available: str
    demo: bool  # the lot's organisation is a demo one: its tonnes and prices are invented


def _list_rows(items: list[Lot], locale: str) -> list[ListRow]:
    today = dt.date.today()
    state_labels: dict[str, str] = {}  # a state's label translated once per page
    rows = []
    for lot in items:
        state = lots.state(lot, today)
        if state not in state_labels:
            state_labels[state] = label(LOT_STATE, state)
        rows.append(ListRow(
            lot.id, url_for("lots.detail", lot_id=lot.id), lots.display_title(lot, locale), state,
            state_labels[state], lot.category.display_name(locale),
            catalogue.prefecture_name(lot.facility.prefecture_code, locale),
            i18n.tonnes_text(lot.remaining_tonnes), i18n.yuan_text(lot.reserve_yuan_per_t),
            i18n.dateformat(lot.available_from) if lot.available_from else "", lot.facility.organization.is_demo))
    return rows


@blueprint.route("/mine")
@allowed(policy.may_produce)
def mine():
    """My organisation's lots: state, tonnes left, number of sealed bids and what I can do with each."""
    wanted = request.args.get("state") or None
    items, page = lots.own_lots(db.session, current_user.row, wanted, request.args.get("page", 1, type=int),
                                current_app.config["LOTS_PER_PAGE"])
    return render_template("lots/mine.html", items=items, page=page, wanted=wanted, states=lots.LOT_STATES[1:],
                           action_form=FlaskForm(), locale=str(get_locale()))


def _map_page(form: LotFilterForm):
    args = {k: v for k, v in request.args.items() if k not in ("view", "page")}
    return render_template(
        "lots/map.html",
        form=form,
        source=url_for("lots.map_json", **args),
        tile_url=current_app.config.get("MAP_TILE_URL"),
    )


@blueprint.route("/map")
def map_view():
    """The filtered lots on a map."""
    form, _filters_ = _filters(str(get_locale()))
    return _map_page(form)


@blueprint.route("/map.json")
def map_json():
    """The filtered lots as JSON points for the map."""
    locale = str(get_locale())
    _form, filters = _filters(locale)
    try:
        return jsonify(lots.map_points(db.session, filters, locale))
    except ServiceError as exc:
        return jsonify({"error": exc.message, "count": 0, "limit": lots.MAP_LIMIT, "lots": []}), 400


def _lot_form(lot: Lot | None = None) -> LotForm:
    locale = str(get_locale())
    form_class = lot_form_class(_quality_specs())
    form = form_class(obj=lot) if lot is not None and request.method == "GET" else form_class()
    if lot is not None and request.method == "GET":
        form.facility.data, form.category.data = lot.facility_id, lot.category.code
        for key, value in (lot.quality or {}).items():
            if hasattr(form, f"q_{key}"):
                getattr(form, f"q_{key}").data = str(value)
        form.hazard_characteristics.data = (lot.hazard_characteristics or "").split(",") if lot.hazard_characteristics \
            else []
    choices = [(f.id, f.name) for f in lots.producer_facilities(db.session, current_user.row)]
    if lot is not None and lot.facility_id not in {c[0] for c in choices}:
        choices.append((lot.facility_id, lot.facility.name))
    form.facility.choices = choices
    form.category.choices = catalogue.category_choices(db.session, locale)
    return form


def _quality_keys() -> dict[str, list[str]]:
    return {c.code: [q["key"] for q in c.quality_fields] for c in catalogue.categories(db.session)}


def _hazardous_codes() -> list[str]:
    return [c.code for c in catalogue.categories(db.session) if c.hazardous]


def _quality_specs() -> dict[str, dict]:
    """Every quality key of the catalogue with its type and unit (first definition wins)."""
    specs: dict[str, dict] = {}
    for c in catalogue.categories(db.session):
        for q in c.quality_fields:
            specs.setdefault(q["key"], q)
    return specs


def _input(form: LotForm) -> lots.LotInput:
    """The service input; quality values of other categories are dropped (the service checks their types)."""
    quality = {}
    for key in _quality_keys().get(form.category.data, []):
        raw = (getattr(form, f"q_{key}").data or "").strip() if hasattr(form, f"q_{key}") else ""
        if raw:
            quality[key] = raw
    return lots.LotInput(
        facility_id=form.facility.data,
        category=form.category.data,
        tonnes=form.tonnes.data,
        reserve_yuan_per_t=form.reserve_yuan_per_t.data,
        available_from=form.available_from.data,
        available_to=form.available_to.data,
        min_shipment_t=form.min_shipment_t.data,
        title=form.title.data,
        description=form.description.data,
        quality=quality,
        settle_on=form.settle_on.data or "received",
        # The hidden hazardous fieldset may keep values typed before the category changed: sent for hazardous only.
        **(dict(transfer_approval_ref=form.transfer_approval_ref.data, waste_form=form.waste_form.data or None,
                hazard_characteristics=",".join(form.hazard_characteristics.data or []) or None,
                packaging_type=form.packaging_type.data) if form.category.data in _hazardous_codes() else {}),
    )


def _render_form(form: LotForm, lot: Lot | None, status: int = 200):
    return render_template("lots/form.html", form=form, lot=lot, quality_keys=_quality_keys(),
                           hazardous_codes=_hazardous_codes()), status


def _save(form: LotForm, lot: Lot | None):
    if not form.validate_on_submit():
        return _render_form(form, lot, 400 if request.method == "POST" else 200)
    data = _input(form)
    if any(f.errors for f in form.quality_fields()):
        return _render_form(form, lot, 400)
    try:
        if lot is None:
            lot = lots.post(db.session, current_user.row, data)
            flash(_("Lot posted."), "success")
        else:
            lot = lots.update(db.session, current_user.row, lot, data)
            flash(_("Lot saved."), "success")
    except PermissionDenied:
        abort(403)
    except ServiceError as exc:
        db.session.rollback()
        for field_name, message in getattr(exc, "problems", [(exc.field, exc.message)]):
            if field_name and field_name.startswith("quality."):
                field_name = "q_" + field_name.removeprefix("quality.")
            known = field_name in LOT_FIELDS or (field_name or "").startswith("q_")
            target = getattr(form, field_name, None) if known else None
            if target is not None:
                target.errors = [*target.errors, message]
            else:
                form.form_errors.append(message)
        return _render_form(form, lot, 400)
    return redirect(url_for("lots.detail", lot_id=lot.id))


@blueprint.route("/new", methods=["GET", "POST"])
@allowed(policy.may_manage_lot)
def create():
    """Post a lot at one of my facilities."""
    return _save(_lot_form(), None)


def _managed(lot_id: int) -> Lot:
    lot = db.session.get(Lot, lot_id)
    if lot is None:
        abort(404)
    if not policy.may_manage_lot(current_user.row, lot):
        abort(403)
    return lot


@blueprint.route("/<int:lot_id>/edit", methods=["GET", "POST"])
@allowed(policy.may_manage_lot)
def edit(lot_id: int):
    """Edit one of my open lots."""
    lot = _managed(lot_id)
    if lot.status not in lots.EDITABLE:
        flash(_("Only open lots can be edited."), "error")
        return redirect(url_for("lots.detail", lot_id=lot.id))
    return _save(_lot_form(lot), lot)


@blueprint.route("/<int:lot_id>/withdraw", methods=["POST"])
@allowed(policy.may_manage_lot)
def withdraw(lot_id: int):
    """Withdraw one of my open lots."""
    lot = _managed(lot_id)
    back = url_for("lots.mine") if request.form.get("next") == "mine" else url_for("lots.detail", lot_id=lot.id)
    return perform(lambda: lots.withdraw(db.session, current_user.row, lot), _("Lot withdrawn."), back)


@blueprint.route("/import", methods=["GET", "POST"])
@allowed(policy.may_manage_lot)
def import_lots():
    """Import lots from a CSV or XLSX file: all rows or none."""
    form = LotImportForm()
    if not form.validate_on_submit():
        return render_template("lots/import.html", form=form, errors=[]), 400 if request.method == "POST" else 200
    upload = form.file.data
    try:
        count = lot_import.import_lots(db.session, current_user.row, upload.filename or "", upload.read())
    except ImportRejected as exc:
        db.session.rollback()
        form.file.errors = [exc.message]
        return render_template("lots/import.html", form=form, errors=exc.errors), 400
    except ServiceError as exc:
        db.session.rollback()
        form.file.errors = [exc.message]
        return render_template("lots/import.html", form=form, errors=[]), 400
    flash(ngettext("%(num)d lot imported.", "%(num)d lots imported.", count), "success")
    return redirect(url_for("lots.mine"))


@blueprint.route("/import/template.<any(csv, xlsx):fmt>")
@login_required
def import_template(fmt: str):
    """The import template as CSV or XLSX, with bilingual headers and an example row."""
    locale = str(get_locale())
    if fmt == "csv":
        return Response(
            lot_import.template_csv(locale),
            mimetype="text/csv",
            headers={"Content-Disposition": "attachment; filename=gufei-lots-template.csv"},
        )
    return Response(
        lot_import.template_xlsx(locale),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": "attachment; filename=gufei-lots-template.xlsx"},
    )


@blueprint.route("/<int:lot_id>/documents", methods=["POST"])
@allowed(policy.may_manage_lot)
def upload_document(lot_id: int):
    """Attach a photo or PDF to one of my lots."""
    lot = _managed(lot_id)
    form = DocumentForm()
    if not form.validate_on_submit():
        return _detail(lot, document_form=form, status=400)
    upload = form.file.data
    try:
        uploads.save_lot_document(
            db.session,
            current_user.row,
            lot,
            upload.stream,
            upload.filename or "",
            current_app.config["UPLOAD_FOLDER"],
            current_app.config.get("LOT_DOCUMENT_MAX_BYTES", uploads.MAX_DOCUMENT_BYTES),
        )
    except PermissionDenied:
        abort(403)
    except ServiceError as exc:
        form.file.errors = [exc.message]
        return _detail(lot, document_form=form, status=400)
    flash(_("Document uploaded."), "success")
    return redirect(url_for("lots.detail", lot_id=lot.id))


@blueprint.route("/<int:lot_id>/documents/<int:document_id>")
@login_required
def document(lot_id: int, document_id: int):
    """Serve a lot's document to those allowed to see it."""
    doc = db.session.get(LotDocument, document_id)
    if doc is None or doc.lot_id != lot_id:
        abort(404)
    if not policy.may_see_lot(current_user.row, doc.lot):
        abort(403)
    try:
        path, mimetype = uploads.served_file(current_user.row, current_app.config["UPLOAD_FOLDER"], doc)
    except ServiceError:
        abort(404)
    if not path.is_file():
        abort(404)
    return send_file(
        path, mimetype=mimetype, download_name=doc.filename, as_attachment=doc.content_type == "application/pdf"
    )


@blueprint.route("/<int:lot_id>/photos/<int:document_id>/<any(thumb, large):size>.jpg")
@login_required
def photo(lot_id: int, document_id: int, size: str):
    """A photo's EXIF-free JPEG: a thumbnail for lists and the lot page, or the large copy."""
    doc = db.session.get(LotDocument, document_id)
    if doc is None or doc.lot_id != lot_id or doc.content_type not in uploads.IMAGE_TYPES:
        abort(404)
    if not policy.may_see_lot(current_user.row, doc.lot):
        abort(403)
    try:
        path = uploads.photo_path(current_app.config["UPLOAD_FOLDER"], doc, size)
    except ServiceError:
        abort(404)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype="image/jpeg", max_age=86400)
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response


@blueprint.route("/<int:lot_id>/questions", methods=["POST"])
@allowed(policy.may_recycle)
def ask(lot_id: int):
    """Ask a public question about a lot."""
    lot = db.session.get(Lot, lot_id)
    if lot is None:
        abort(404)
    form = QuestionForm()
    if not form.validate_on_submit():
        return _detail(lot, question_form=form, status=400)
    try:
        questions.ask(db.session, current_user.row, lot, form.question.data)
    except PermissionDenied:
        abort(403)
    except ServiceError as exc:
        show_error(form, exc)
        return _detail(lot, question_form=form, status=400)
    flash(_("Question posted; the producer has been told."), "success")
    return redirect(url_for("lots.detail", lot_id=lot.id, _anchor="questions"))


@blueprint.route("/questions/<int:question_id>/answer", methods=["POST"])
@allowed(policy.may_produce)
def answer(question_id: int):
    """Answer a question about one of my lots."""
    form = AnswerForm()
    question = db.session.get(LotQuestion, question_id)
    if question is None:
        abort(404)
    if not form.validate_on_submit():
        return _detail(question.lot, answer_form=form, answering=question.id, status=400)
    try:
        questions.answer(db.session, current_user.row, question_id, form.answer.data)
    except PermissionDenied:
        abort(403)
    except ServiceError as exc:
        show_error(form, exc)
        return _detail(question.lot, answer_form=form, answering=question.id, status=400)
    flash(_("Answer posted."), "success")
    return redirect(url_for("lots.detail", lot_id=question.lot_id, _anchor="questions"))


@blueprint.route("/questions/<int:question_id>/hide", methods=["POST"])
@allowed(policy.may_administer)
def hide_question(question_id: int):
    """Hide a question and its answer (or show it again)."""
    question = db.session.get(LotQuestion, question_id)
    if question is None:
        abort(404)
    hidden = request.form.get("hidden", "1") == "1"
    return perform(lambda: questions.hide(db.session, current_user.row, question_id, hidden),
                   _("Post hidden.") if hidden else _("Post shown again."),
                   url_for("lots.detail", lot_id=question.lot_id, _anchor="questions"))


# The lot page's rows in one query: the lot with its facility, producer, category and documents (lazy loads would
# be three more round trips; the producer's roles are not shown).
_DETAIL_LOAD = (so.joinedload(Lot.facility).joinedload(Facility.organization).lazyload(Organization.roles),
                so.joinedload(Lot.documents))


def _detail(lot: Lot, document_form: DocumentForm | None = None, status: int = 200, question_form=None,
            answer_form=None, answering: int | None = None):
    locale = str(get_locale())
    viewer = current_user.row if current_user.is_authenticated else None
    user = viewer
    manager = policy.may_manage_lot(user, lot)
    advice = guidance.for_lot(db.session, lot, user)
    return render_template(
        "lots/detail.html",
        lot=lot,
        locale=locale,
        # Only the lot's producer learns how many sealed bids it has.
        bid_count=lots.active_bid_count(db.session, lot.id) if policy.may_see_bid_count(user, lot) else None,
        prefecture_name=catalogue.prefecture_name,
        manager=manager,
        buyable=lots.is_buyable(lot),
        distances=lots.distances_from(lot, _my_facilities()),
        guidance=advice,
        guidance_places=", ".join(catalogue.prefecture_name(p, locale) or _("outside the province")
                                  for p in advice.prefectures),
        guidance_min=current_app.config.get("PRICE_GUIDANCE_MIN_BUYERS", 3),
        document_form=document_form or DocumentForm(),
        questions=questions.on_lot(db.session, lot, viewer),
        question_form=question_form or QuestionForm(formdata=None),
        answer_form=answer_form or AnswerForm(formdata=None),
        answering=answering,
        action_form=FlaskForm(),
        tile_url=current_app.config.get("MAP_TILE_URL"),
    ), status


@blueprint.route("/<int:lot_id>")
def detail(lot_id: int):
    """One lot: quantity, quality, place, map, distances, price guidance and the number of sealed bids."""
    lot = db.session.get(Lot, lot_id, options=_DETAIL_LOAD)
    if lot is None or not policy.may_see_lot(current_user.row if current_user.is_authenticated else None, lot):
        abort(404)
    return _detail(lot)
