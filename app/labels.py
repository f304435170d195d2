"""Translated labels for the codes stored in the database (statuses, roles, quality keys)."""
from __future__ import annotations

from flask import Flask
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

LOT_STATUS = {
    "draft": _l("Draft"), "open": _l("Open"), "matched": _l("Matched"), "awarded": _l("Awarded"),
    "shipping": _l("Shipping"), "delivered": _l("Delivered"), "utilised": _l("Utilised"),
    "withdrawn": _l("Withdrawn"), "expired": _l("Expired"),
}
LOT_STATE = {
    "draft": _l("Draft"), "open": _l("Open"), "partly_matched": _l("Partly matched"), "matched": _l("Matched"),
    "sold": _l("Sold"), "withdrawn": _l("Withdrawn"), "expired": _l("Expired"),
}
ORG_ROLE = {
    "producer": _l("Producer"), "recycler": _l("Recycler"), "carrier": _l("Carrier"),
    "base_operator": _l("Base operator"), "regulator": _l("Regulator"), "operator": _l("Platform operator"),
}
USER_ROLE = {
    "producer": _l("Producer"), "recycler": _l("Recycler"), "carrier": _l("Carrier"),
    "base_officer": _l("Base officer"), "regulator": _l("Regulator"), "admin": _l("Administrator"),
}
QUALITY = {
    "moisture_pct": _l("Moisture (%)"), "cao_pct": _l("CaO (%)"), "f_cao_pct": _l("Free CaO (%)"),
    "mgo_pct": _l("MgO (%)"), "feo_pct": _l("FeO (%)"), "loi_pct": _l("Loss on ignition (%)"),
    "fineness_pct": _l("Fineness, 45 µm residue (%)"), "so3_pct": _l("SO₃ (%)"), "cl_pct": _l("Chloride (%)"),
    "caso4_pct": _l("CaSO₄·2H₂O purity (%)"), "calorific_mj_kg": _l("Calorific value (MJ/kg)"),
    "sulfur_pct": _l("Sulphur (%)"), "al2o3_pct": _l("Al₂O₃ (%)"), "fe_pct": _l("Fe content (%)"),
    "sio2_pct": _l("SiO₂ (%)"), "purity_pct": _l("Purity (%)"), "module_count": _l("Modules (count)"),
    "capacity_retention_pct": _l("Capacity retention (%)"), "length_m": _l("Blade length (m)"),
    "colour": _l("Colour"), "grade": _l("Grade"), "contamination_pct": _l("Contamination (%)"),
    "zn_pct": _l("Zn content (%)"), "ash_pct": _l("Ash (%)"), "oil_content_pct": _l("Oil content (%)"),
    "vehicle_count": _l("Vehicles (count)"),
}


BID_STATUS = {
    "active": _l("Active"), "withdrawn": _l("Withdrawn"), "allocated": _l("Allocated"),
    "unsuccessful": _l("Unsuccessful"),
}
RUN_STATUS = {"queued": _l("Queued"), "running": _l("Running"), "succeeded": _l("Succeeded"), "failed": _l("Failed")}
ALLOCATION_STATUS = {
    "proposed": _l("Awaiting answers"), "accepted": _l("Accepted"), "declined": _l("Declined"),
    "expired": _l("Expired"),
}
AWARD_STATUS = {
    "open": _l("Awarded"), "shipping": _l("Shipping"), "delivered": _l("Delivered"), "utilised": _l("Utilised"),
    "closed": _l("Closed"),
}
SHIPMENT_STATUS = {"dispatched": _l("On its way"), "received": _l("Received")}
UNMATCHED_REASON = {
    "no_compatible_recycler": _l("No compatible recycler (category, quality, window, licence or haul distance)"),
    "netback_below_reserve": _l("The best netback is below the reserve price"),
    "capacity_taken": _l("Compatible recyclers' capacity went to better-paying lots"),
}
PRODUCT = {
    "cement": _l("Cement"), "clinker_raw_meal": _l("Clinker raw meal"), "concrete_admixture": _l("Concrete admixture"),
    "road_base": _l("Road base"), "bricks_blocks": _l("Bricks and blocks"), "gypsum_board": _l("Gypsum board"),
    "backfill": _l("Backfill"), "recovered_silicon": _l("Recovered silicon"), "recovered_glass": _l("Recovered glass"),
    "recovered_aluminium": _l("Recovered aluminium"), "recovered_metal": _l("Recovered metal"),
    "recycled_plastic": _l("Recycled plastic"), "fuel": _l("Fuel"), "fertiliser": _l("Fertiliser"),
    "other": _l("Other"),
}
EVALUATION_STATUS = {
    "applied": _l("Applied"), "under_review": _l("Under review"), "evaluated": _l("Evaluated"),
    "rejected": _l("Rejected"),
}
FAMILY = {
    "bulk_industrial": _l("Bulk industrial solid waste"),
    "other_industrial": _l("Other industrial solid waste"), "emerging": _l("Emerging waste streams"),
    "low_value": _l("Low-value recyclables"), "renewable": _l("Renewable resources"),
    "agricultural": _l("Agricultural residues"), "hazardous": _l("Hazardous waste"),
}
FREIGHT_CLASS = {
    "bulk": _l("Bulk"), "general": _l("General cargo"), "hazardous": _l("Dangerous goods"),
    "oversize": _l("Oversize"),
}
DECISION = {"accepted": _l("accepted"), "declined": _l("declined")}
MARKET_LABELS = {
    "decision_label": DECISION, "evaluation_status_label": EVALUATION_STATUS, "family_label": FAMILY,
    "freight_class_label": FREIGHT_CLASS,
    "bid_status_label": BID_STATUS, "run_status_label": RUN_STATUS, "allocation_status_label": ALLOCATION_STATUS,
    "award_status_label": AWARD_STATUS, "shipment_status_label": SHIPMENT_STATUS,
    "unmatched_reason_label": UNMATCHED_REASON, "product_label": PRODUCT,
}


def label(table: dict, code: str) -> str:
    """The translated label of a code, or the code itself when it has none."""
    value = table.get(code)
    return str(value) if value is not None else code


def init_app(app: Flask) -> None:
    """Expose the label lookups to templates."""
    from app.services import lots

    app.add_template_global(lambda c: label(LOT_STATUS, c), "lot_status_label")
    app.add_template_global(lambda c: label(LOT_STATE, c), "lot_state_label")
    app.add_template_global(lambda lot: lots.state(lot), "lot_state")
    app.add_template_global(lambda lot: lots.display_title(lot, str(get_locale())), "lot_title")
    app.add_template_global(lambda c: label(QUALITY, c), "quality_label")
    from app.services.hazardous import WASTE_FORMS

    app.add_template_global(lambda c: label(WASTE_FORMS, c), "hazardous_form_label")
    for name, table in MARKET_LABELS.items():
        app.add_template_global(lambda c, table=table: label(table, c), name)
    app.add_template_filter(lambda c: label(ORG_ROLE, c), "org_role_label")
    app.add_template_filter(lambda c: label(USER_ROLE, c), "user_role_label")
