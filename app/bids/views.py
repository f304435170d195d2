"""Views of the bids blueprint: sealed bids, demand profiles, bid counts for producers."""
from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from app import policy
from app.actions import perform, show_error
from app.bids.forms import BidForm, CategoryBidForm, DemandProfileForm, parse_quality_limits
from app.extensions import db
from app.permissions import allowed
from app.services import bids, catalogue
from app.services.errors import PermissionDenied, ServiceError
from models import Lot

blueprint = Blueprint("bids", __name__, url_prefix="/bids")


def _facility_choices() -> list[tuple[int, str]]:
    return [(f.id, f.name) for f in bids.recycler_facilities(db.session, current_user.row)]


@blueprint.route("")
@allowed(policy.may_bid_on)
def index():
    """The organisation's own bids and demand profiles."""
    return render_template("bids/index.html", bids=bids.own_bids(db.session, current_user.row),
                           profiles=bids.own_profiles(db.session, current_user.row), form=FlaskForm(),
                           locale=str(get_locale()))


@blueprint.route("/lots/<int:lot_id>/new", methods=["GET", "POST"])
@allowed(policy.may_bid_on)
def new(lot_id: int):
    """Place a sealed bid on a lot."""
    lot = db.session.get(Lot, lot_id)
    if lot is None or not policy.may_see_lot(current_user.row, lot):
        abort(404)
    if not policy.may_bid_on(current_user.row, lot):
        abort(403, description=_("This lot no longer takes bids."))
    form = BidForm()
    form.facility_id.choices = _facility_choices()
    if form.validate_on_submit():
        try:
            bids.place_bid(db.session, current_user.row, lot_id, bids.BidInput(
                facility_id=form.facility_id.data, price_yuan_per_t=form.price_yuan_per_t.data,
                tonnes=form.tonnes.data, max_haul_km=form.max_haul_km.data))
        except PermissionDenied:
            abort(403)
        except ServiceError as exc:
            show_error(form, exc)
        else:
            flash(_("Your sealed bid is placed. Nobody else sees its price."), "success")
            return redirect(url_for("bids.index"))
    status = 400 if form.is_submitted() else 200
    return render_template("bids/new.html", form=form, lot=lot, locale=str(get_locale()),
                           own=bids.own_bids_on_lot(db.session, current_user.row, lot_id)), status


@blueprint.route("/category/new", methods=["GET", "POST"])
@allowed(policy.may_bid_on)
def new_category_bid():
    """Place a sealed bid on every compatible lot of a category within the haul radius."""
    form = CategoryBidForm()
    form.facility_id.choices = _facility_choices()
    form.category.choices = catalogue.category_choices(db.session, str(get_locale()))
    if form.validate_on_submit():
        try:
            bids.place_category_bid(db.session, current_user.row, form.category.data, bids.BidInput(
                facility_id=form.facility_id.data, price_yuan_per_t=form.price_yuan_per_t.data,
                tonnes=form.tonnes.data, max_haul_km=form.max_haul_km.data))
        except PermissionDenied:
            abort(403)
        except ServiceError as exc:
            show_error(form, exc)
        else:
            flash(_("Your sealed category-wide bid is placed. Nobody else sees its price."), "success")
            return redirect(url_for("bids.index"))
    status = 400 if form.is_submitted() else 200
    return render_template("bids/category_new.html", form=form), status


@blueprint.route("/<int:bid_id>/withdraw", methods=["POST"])
@allowed(policy.may_bid_on)
def withdraw(bid_id: int):
    """Withdraw an active bid."""
    return perform(lambda: bids.withdraw_bid(db.session, current_user.row, bid_id), _("Bid withdrawn."),
                   url_for("bids.index"))


@blueprint.route("/received")
@allowed(policy.may_manage_lot)
def received():
    """How many sealed bids each of the organisation's lots has (never the amounts)."""
    return render_template("bids/received.html", rows=bids.received_summary(db.session, current_user.row),
                           locale=str(get_locale()))


@blueprint.route("/lots/<int:lot_id>/status.json")
@login_required
def lot_status(lot_id: int):
    """Bid status of a lot as JSON: the count for its producer, own bids for a bidder, 403 otherwise."""
    try:
        return jsonify(bids.lot_bid_status(db.session, current_user.row, lot_id))
    except PermissionDenied:
        abort(403)
    except ServiceError:
        abort(404)


@blueprint.route("/profiles/new", methods=["GET", "POST"])
@allowed(policy.may_bid_on)
def new_profile():
    """Create a standing demand profile."""
    form = DemandProfileForm()
    form.facility_id.choices = _facility_choices()
    form.category.choices = catalogue.category_choices(db.session, str(get_locale()))
    if form.validate_on_submit():
        try:
            bids.create_profile(db.session, current_user.row, bids.ProfileInput(
                facility_id=form.facility_id.data, category_code=form.category.data,
                period_start=form.period_start.data, period_end=form.period_end.data, tonnes=form.tonnes.data,
                price_yuan_per_t=form.price_yuan_per_t.data, max_haul_km=form.max_haul_km.data,
                quality_limits=parse_quality_limits(form.quality_limits.data)))
        except PermissionDenied:
            abort(403)
        except ServiceError as exc:
            show_error(form, exc)
        else:
            flash(_("Demand profile saved."), "success")
            return redirect(url_for("bids.index"))
    status = 400 if form.is_submitted() else 200
    return render_template("bids/profile_new.html", form=form), status


@blueprint.route("/profiles/<int:profile_id>/deactivate", methods=["POST"])
@allowed(policy.may_bid_on)
def deactivate_profile(profile_id: int):
    """Stop a demand profile."""
    return perform(lambda: bids.deactivate_profile(db.session, current_user.row, profile_id),
                   _("Demand profile stopped."), url_for("bids.index"))
