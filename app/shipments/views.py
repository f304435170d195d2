"""Views of the shipments blueprint: dispatch, weigh in, declare utilisation."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from app import policy
from app.actions import show_error
from app.extensions import db
from app.labels import PRODUCT, label
from app.permissions import allowed
from app.services import awards, emanifest, shipments
from app.services.errors import PermissionDenied, ServiceError
from app.shipments.forms import DispatchForm, ReceiveForm, UtilisationForm
from models import Shipment
from models.shipments import PRODUCTS

blueprint = Blueprint("shipments", __name__, url_prefix="/shipments")


def _forms(dispatch=None, receive=None, utilisation=None):
    dispatch = dispatch or DispatchForm(formdata=None)
    # Carriers able to move hazardous waste are marked, so a producer of a hazardous lot can choose.
    permit = _("dangerous-goods permit")
    dispatch.carrier_organization_id.choices = [("", "—")] + [
        (o.id, f"{o.name} · {permit}" if policy.carries_hazardous(o, None) else o.name)
        for o in shipments.carriers(db.session)]
    utilisation = utilisation or UtilisationForm(formdata=None)
    utilisation.product.choices = [(p, label(PRODUCT, p)) for p in PRODUCTS]
    return dispatch, receive or ReceiveForm(formdata=None), utilisation


@blueprint.route("/manifests")
@allowed(policy.may_see_manifests)
def manifests():
    """A carrier's manifests: what to move, from where to where, and whether it was received."""
    return render_template("shipments/manifests.html",
                           loads=shipments.carrier_manifests(db.session, current_user.row))


@blueprint.route("/e-manifest.<any(csv, xlsx):fmt>")
@allowed(policy.may_export_manifests)
def e_manifest(fmt: str):
    """Hazardous loads as rows of the national electronic transfer manifest, to key into the provincial system."""
    content, name = emanifest.export(db.session, current_user.row, fmt)
    mimetype = "text/csv" if fmt == "csv" else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(content, mimetype=mimetype, headers={"Content-Disposition": f"attachment; filename={name}"})


def render_award(award_id: int, status: int = 200, error_shipment: int | None = None, **forms):
    """The award page with its forms (re-rendered with errors and input on a bad submission)."""
    try:
        award = awards.award_for(db.session, current_user.row, award_id)
    except PermissionDenied:
        abort(403)
    dispatch, receive, utilisation = _forms(**forms)
    received = shipments.received_total(db.session, award.id)
    return render_template(
        "shipments/award.html",
        award=award,
        allocation=award.allocation,
        sides=policy.allocation_sides(current_user.row, award.allocation),
        loads=shipments.award_shipments(db.session, award.id),
        received=received,
        billing=awards.billing(award, received),
        declared=shipments.declared_total(db.session, award.id),
        dispatch_form=dispatch,
        receive_form=receive,
        utilisation_form=utilisation,
        error_shipment=error_shipment,
        locale=str(get_locale()),
    ), status


@blueprint.route("/awards/<int:award_id>/dispatch", methods=["POST"])
@allowed(lambda user: policy.may_trade(user, policy.PRODUCER))
def dispatch(award_id: int):
    """Dispatch a load against an award."""
    form, _r, _u = _forms(dispatch=DispatchForm())
    if form.validate_on_submit():
        try:
            shipment = shipments.dispatch(
                db.session,
                current_user.row,
                award_id,
                form.tonnes.data,
                form.vehicle_plate.data,
                form.carrier_organization_id.data,
                form.packaging_count.data,
            )
        except PermissionDenied:
            abort(403)
        except ServiceError as exc:
            show_error(form, exc)
        else:
            flash(_("Load dispatched with manifest %(no)s.", no=shipment.manifest_no), "success")
            return redirect(url_for("awards.detail", award_id=award_id))
    return render_award(award_id, 400, dispatch=form)


@blueprint.route("/<int:shipment_id>/receive", methods=["POST"])
@allowed(lambda user: policy.may_trade(user, policy.RECYCLER))
def receive(shipment_id: int):
    """Weigh a load in."""
    shipment = db.session.get(Shipment, shipment_id)
    if shipment is None:
        abort(404)
    form = ReceiveForm()
    if form.validate_on_submit():
        try:
            shipment = shipments.receive(db.session, current_user.row, shipment_id, form.received_tonnes.data,
                                         form.disposal_method.data)
        except PermissionDenied:
            abort(403)
        except ServiceError as exc:
            show_error(form, exc)
        else:
            if shipment.discrepancy_flagged:
                flash(_("Received, with a weight difference above 2 %: both parties are notified."), "warning")
            else:
                flash(_("Received."), "success")
            return redirect(url_for("awards.detail", award_id=shipment.award_id))
    return render_award(shipment.award_id, 400, error_shipment=shipment_id, receive=form)


@blueprint.route("/awards/<int:award_id>/utilisation", methods=["POST"])
@allowed(policy.may_declare_utilisation)
def utilisation(award_id: int):
    """Declare what received material became."""
    _d, _r, form = _forms(utilisation=UtilisationForm())
    if form.validate_on_submit():
        try:
            shipments.declare_utilisation(
                db.session, current_user.row, award_id, form.product.data, form.tonnes.data, form.period.data
            )
        except PermissionDenied:
            abort(403)
        except ServiceError as exc:
            show_error(form, exc)
        else:
            flash(_("Utilisation declared."), "success")
            return redirect(url_for("awards.detail", award_id=award_id))
    return render_award(award_id, 400, utilisation=form)
