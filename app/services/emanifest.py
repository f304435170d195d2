"""Hazardous loads as rows of the national electronic transfer manifest (危险废物电子转移联单), for CSV/XLSX.

One row per load, columns in the order of the manifest form annexed to 危险废物转移管理办法 (2021): what the
consignor (移出人) fills in, then the carrier (承运人), then the receiver (接受人); see docs/statistics.md for the
field list's source. The headers stay in Chinese in every locale: they are the form's field names, which a clerk
matches when keying the rows into the provincial module of the national solid-waste information system.
The platform's manifest number is ours; the national system issues its own 联单编号 on entry.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so

from app import policy
from app.services import exports, hazardous, periods, spreadsheets
from models import Allocation, Award, Facility, Lot, Shipment, User, WasteCategory

LIMIT = 5000
# (header, how a load fills it) in the form's order.
COLUMNS = (
    "平台联单号",
    "移出人名称", "移出人统一社会信用代码", "移出设施及地址",
    "废物名称", "废物类别", "废物代码", "危险特性", "形态", "包装方式", "包装数量", "移出量（吨）", "移出日期",
    "跨省转移审批/备案编号",
    "承运人名称", "道路危险货物运输许可证编号", "载具牌号",
    "接受人名称", "危险废物经营许可证编号", "接受设施及地址", "接受量（吨）", "接受日期", "利用/处置方式代码",
)


def _date(moment: dt.datetime | None) -> dt.date | None:
    """The Beijing calendar day of a stored (UTC) time."""
    return None if moment is None else periods.beijing_date(moment)


def _place(facility: Facility) -> str:
    return f"{facility.name}（{facility.address}）" if facility.address else facility.name


def loads(session: so.Session, user: User) -> list[Shipment]:
    """The hazardous loads the user's organisation moved, sent or received (the province: every one), oldest first."""
    policy.require(policy.may_export_manifests(user))
    receiver = so.aliased(Facility)
    stmt = (sa.select(Shipment).join(Award, Award.id == Shipment.award_id)
            .join(Allocation, Allocation.id == Award.allocation_id).join(Lot, Lot.id == Allocation.lot_id)
            .join(WasteCategory, WasteCategory.id == Lot.category_id).join(Facility, Facility.id == Lot.facility_id)
            .join(receiver, receiver.id == Allocation.facility_id)
            .where(WasteCategory.hazardous.is_(True)).order_by(Shipment.id).limit(LIMIT))
    if not policy.sees_every_record(user):
        org = user.organization_id
        stmt = stmt.where(sa.or_(Shipment.carrier_organization_id == org, Facility.organization_id == org,
                                 receiver.organization_id == org))
    return list(session.scalars(stmt))


def row(load: Shipment) -> list:
    """One load in the column order of COLUMNS."""
    allocation = load.award.allocation
    lot, receiver = allocation.lot, allocation.facility
    category = lot.category
    hw = hazardous.hw_class(category)
    codes = sorted(hazardous.hw_tokens(category) - {hw})
    return [
        load.manifest_no,
        lot.facility.organization.name, lot.facility.organization.credit_code, _place(lot.facility),
        category.name_zh, hw, " ".join(codes) or None, lot.hazard_characteristics,
        hazardous.WASTE_FORM_ZH.get(lot.waste_form or ""), lot.packaging_type, load.packaging_count,
        load.dispatched_tonnes, _date(load.dispatched_at),
        lot.transfer_approval_ref,
        load.carrier.name if load.carrier else None, load.carrier_permit_no, load.vehicle_plate,
        receiver.organization.name, load.receiver_licence_no, _place(receiver), load.received_tonnes,
        _date(load.received_at), load.disposal_method,
    ]


def _has_demo_party(load: Shipment) -> bool:
    allocation = load.award.allocation
    parties = (allocation.lot.facility.organization, allocation.facility.organization, load.carrier)
    return any(org is not None and org.is_demo for org in parties)


def export(session: so.Session, user: User, fmt: str) -> tuple[bytes, str]:
    """(file content, file name) of the user's hazardous loads as CSV or XLSX."""
    found = loads(session, user)
    rows = [row(load) for load in found]
    if any(_has_demo_party(load) for load in found):
        rows.append([exports.demo_note()])  # invented loads must not be keyed into the provincial system unnoticed
    stamp = dt.datetime.now(periods.BEIJING).date().isoformat()
    if fmt == "csv":
        return spreadsheets.write_csv(list(COLUMNS), rows), f"gufei-e-manifest-{stamp}.csv"
    rows = [[float(v) if isinstance(v, Decimal) else v for v in r] for r in rows]  # numbers stay numbers in Excel
    return spreadsheets.write_xlsx("危险废物转移联单", list(COLUMNS), rows), f"gufei-e-manifest-{stamp}.xlsx"
