"""Translated labels for the codes stored in the database (statuses, roles, quality keys)."""
from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

LOT_STATUS = {
    "draft": _l("Draft"), "open": _l("Open"), "matched": _l("Matched"), "awarded": _l("Awarded"),
    "shipping": _l("Shipping"), "delivered": _l("Delivered"), "utilised": _l("Utilised"),
    "withdrawn": _l("Withdrawn"), "expired": _l("Expired"),
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
}


def label(table: dict, code: str) -> str:
    """The translated label of a code, or the code itself when it has none."""
    value = table.get(code)
    return str(value) if value is not None else code


def init_app(app: Flask) -> None:
    """Expose the label lookups to templates."""
    app.add_template_global(lambda c: label(LOT_STATUS, c), "lot_status_label")
    app.add_template_global(lambda c: label(QUALITY, c), "quality_label")
    app.add_template_filter(lambda c: label(ORG_ROLE, c), "org_role_label")
    app.add_template_filter(lambda c: label(USER_ROLE, c), "user_role_label")
