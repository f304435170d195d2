"""The hazardous-waste transfer regime: who may receive, who may carry, where a lot may go, what a manifest says.

Sources (named, not copied): 危险废物转移管理办法 (生态环境部、公安部、交通运输部令第23号, 2021, in force
2022-01-01) — transfers to licensed receivers only, carriers with road dangerous-goods transport permits,
cross-province transfers only after the approval of the province of origin, and one electronic transfer
manifest (危险废物电子转移联单) per load, kept in the national solid-waste information system
(全国固体废物管理信息系统); the 国家危险废物名录 (2025) for HW classes and waste codes. See docs/statistics.md.

Every rule is answered here once: the bid service and the clearing's problem translation ask the same functions.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from matching.rules import HAZARDOUS_WILDCARD
from models import Licence, WasteCategory

# Physical form (形态) as the manifest names it.
WASTE_FORMS = {"solid": _l("Solid (固态)"), "semi_solid": _l("Semi-solid (半固态)"), "liquid": _l("Liquid (液态)"),
               "gas": _l("Gas (气态)")}
WASTE_FORM_ZH = {"solid": "固态", "semi_solid": "半固态", "liquid": "液态", "gas": "气态"}
# Hazard characteristics (危险特性) with the letters of the 国家危险废物名录.
HAZARD_CHARACTERISTICS = {"T": _l("Toxicity (T)"), "C": _l("Corrosivity (C)"), "I": _l("Ignitability (I)"),
                          "R": _l("Reactivity (R)"), "In": _l("Infectivity (In)")}
# Utilisation (R…) and disposal (D…) method codes as written on licences and manifests, e.g. R4, D10.
DISPOSAL_METHOD = re.compile(r"^[RD][1-9][0-9]?$")
HW_CLASS = re.compile(r"^HW\d{2}$")
MAX_PACKAGES = 100_000


def hw_tokens(category: WasteCategory) -> set[str]:
    """The HW class and waste code(s) of a category's 名录 entry, e.g. {"HW08", "071-001-08"}."""
    return set((category.hw_code or "").split())


def hw_class(category: WasteCategory) -> str | None:
    """The HW class (e.g. "HW08") of a hazardous category, if the catalogue names one."""
    return next((t for t in sorted(hw_tokens(category)) if HW_CLASS.match(t)), None)


def licence_covers(codes: Iterable[str] | None, category: WasteCategory) -> bool:
    """Whether a licence listing `codes` covers the category: its own code, its HW class or code, or every one."""
    return bool(set(codes or []) & ({category.code, HAZARDOUS_WILDCARD} | hw_tokens(category)))


def licence_codes(session: so.Session) -> list[str]:
    """What a licence may list: the catalogue's category codes and the HW classes its hazardous rows name."""
    categories = list(session.scalars(sa.select(WasteCategory).order_by(WasteCategory.code)))
    return [c.code for c in categories] + sorted({h for c in categories if (h := hw_class(c))})


def _valid(session: so.Session, facility_ids: Iterable[int], today: dt.date) -> list[Licence]:
    ids = list(set(facility_ids))
    if not ids:
        return []
    return list(session.scalars(sa.select(Licence).where(
        Licence.facility_id.in_(ids), sa.or_(Licence.valid_until.is_(None), Licence.valid_until >= today))
        .order_by(Licence.id)))


def covering_licence(session: so.Session, facility_id: int, category: WasteCategory,
                     today: dt.date) -> Licence | None:
    """The facility's first valid licence covering the category, or None."""
    return next((lic for lic in _valid(session, [facility_id], today) if licence_covers(lic.category_codes, category)),
                None)


def licensed_facilities(session: so.Session, facility_ids: Iterable[int], category: WasteCategory,
                        today: dt.date) -> set[int]:
    """Of `facility_ids`, those holding a valid licence covering the category (one query)."""
    return {lic.facility_id for lic in _valid(session, facility_ids, today)
            if licence_covers(lic.category_codes, category)}


def may_go_to(category: WasteCategory, transfer_approval_ref: str | None, receiver_in_province: bool) -> bool:
    """A hazardous lot leaves Heilongjiang only with a cross-province transfer approval/filing reference."""
    return not category.hazardous or receiver_in_province or bool((transfer_approval_ref or "").strip())


def lot_facts_problems(category: WasteCategory | None, transfer_approval_ref: str | None, waste_form: str | None,
                       hazard_characteristics: str | None, packaging_type: str | None) -> list[tuple[str, str]]:
    """Problems with a lot's hazardous-transfer facts as (field, message)."""
    given = any((transfer_approval_ref, waste_form, hazard_characteristics, packaging_type))
    if category is None or not given:
        return []
    if not category.hazardous:
        return [("transfer_approval_ref", _("Transfer approvals, form, hazard characteristics and packaging are "
                                            "stated for hazardous lots only."))]
    problems = []
    if len(transfer_approval_ref or "") > 60:
        problems.append(("transfer_approval_ref", _("At most %(n)d characters.", n=60)))
    if waste_form and waste_form not in WASTE_FORMS:
        problems.append(("waste_form", _("Choose the waste's form.")))
    letters = split_characteristics(hazard_characteristics)
    if hazard_characteristics and (not letters or any(x not in HAZARD_CHARACTERISTICS for x in letters)):
        problems.append(("hazard_characteristics",
                         _("Hazard characteristics are letters of T, C, I, R and In, separated by commas.")))
    if len(packaging_type or "") > 40:
        problems.append(("packaging_type", _("At most %(n)d characters.", n=40)))
    return problems


def split_characteristics(text: str | None) -> list[str]:
    """"T, I" → ["T", "I"] (order of the 名录 kept, duplicates dropped)."""
    given = {x.strip() for x in re.split(r"[,，;；\s]+", text or "") if x.strip()}
    known = [x for x in HAZARD_CHARACTERISTICS if x in given]
    return known + sorted(given - set(known))


def disposal_problem(code: str | None) -> str | None:
    """Why a utilisation/disposal method code is refused, or None."""
    if code and not DISPOSAL_METHOD.match(code):
        return _("Give the utilisation or disposal method code as on the licence, e.g. R4 or D10.")
    return None
