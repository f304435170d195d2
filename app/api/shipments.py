"""API resource: shipments — dispatch a load against an award, weigh it in, read manifests."""
from __future__ import annotations

from flask import Response

from app import policy
from app.api import more_schemas, pagination, schemas
from app.api.auth import current_user
from app.api.awards import award_for
from app.api.blueprint import get_or_404, op
from app.api.imports import CSV, XLSX
from app.extensions import db
from app.services import emanifest, shipments
from models import Shipment


def shipment_out(shipment: Shipment) -> schemas.Shipment:
    """A manifest as the API shows it."""
    return schemas.Shipment.model_validate(shipment)


@op("GET", "/awards/<int:award_id>/shipments", summary="List the loads of an award", tag="shipments",
    query=schemas.PageQuery, response=schemas.ShipmentPage, allow=policy.may_see_awards)
def list_shipments(award_id: int, query: schemas.PageQuery):
    """The manifests of an award your organisation is party to."""
    award_for(award_id)
    rows = sorted(shipments.award_shipments(db.session, award_id), key=lambda s: s.id, reverse=True)
    page, cursor = pagination.after_id(rows, query.cursor, query.limit)
    return schemas.ShipmentPage(items=[shipment_out(s) for s in page], next_cursor=cursor)


@op("POST", "/awards/<int:award_id>/shipments", summary="Dispatch a load", tag="shipments",
    body=schemas.DispatchIn, response=schemas.Shipment, status=201, allow=policy.may_produce)
def dispatch(award_id: int, body: schemas.DispatchIn):
    """The lot's producer dispatches tonnes of the award on a vehicle; a manifest number is issued."""
    user = current_user()
    award_for(award_id)
    return shipment_out(shipments.dispatch(db.session, user, award_id, body.tonnes, body.vehicle_plate,
                                           body.carrier_organization_id, body.packaging_count))


@op("GET", "/manifests", summary="A carrier's manifests", tag="shipments", query=schemas.PageQuery,
    response=schemas.ShipmentPage, allow=policy.may_see_manifests)
def list_manifests(query: schemas.PageQuery):
    """The loads your carrier organisation was given to move, newest first."""
    user = current_user()
    page, cursor = pagination.after_id(shipments.carrier_manifests(db.session, user), query.cursor, query.limit)
    return schemas.ShipmentPage(items=[shipment_out(s) for s in page], next_cursor=cursor)


@op("GET", "/manifests/e-manifest", summary="Hazardous loads as national e-manifest rows", tag="shipments",
    query=more_schemas.TemplateQuery, produces=(CSV, XLSX), allow=policy.may_export_manifests)
def export_e_manifest(query: more_schemas.TemplateQuery):
    """The hazardous loads your organisation sent, carried or received (the province: all) as CSV or XLSX, one row
    per load in the field order of the 危险废物电子转移联单 with Chinese headers (see docs/statistics.md)."""
    content, name = emanifest.export(db.session, current_user(), query.format)
    return Response(content, mimetype=CSV if query.format == "csv" else XLSX,
                    headers={"Content-Disposition": f"attachment; filename={name}"})


@op("GET", "/shipments/<int:shipment_id>", summary="Read a manifest", tag="shipments", response=schemas.Shipment,
    allow=policy.may_see_awards)
def get_shipment(shipment_id: int):
    """One load of an award your organisation is party to."""
    shipment = get_or_404(Shipment, shipment_id)
    award_for(shipment.award_id)
    return shipment_out(shipment)


@op("POST", "/shipments/<int:shipment_id>/receive", summary="Weigh a load in", tag="shipments",
    body=schemas.ReceiveIn, response=schemas.Shipment, allow=policy.may_recycle)
def receive(shipment_id: int, body: schemas.ReceiveIn):
    """The receiving recycler records the weighbridge tonnes; a difference above 2 % is flagged."""
    user = current_user()
    shipment = get_or_404(Shipment, shipment_id)
    award_for(shipment.award_id)
    return shipment_out(shipments.receive(db.session, user, shipment_id, body.received_tonnes, body.disposal_method))


@op("GET", "/carriers", summary="Carriers a load can be dispatched with", tag="shipments", query=schemas.PageQuery,
    response=more_schemas.CarrierPage, allow=policy.may_produce)
def list_carriers(query: schemas.PageQuery):
    """Verified carrier organisations (the dispatch form's choices for `carrier_organization_id`)."""
    rows = sorted(shipments.carriers(db.session), key=lambda o: o.id, reverse=True)
    page, cursor = pagination.after_id(rows, query.cursor, query.limit)
    return more_schemas.CarrierPage(items=[more_schemas.Carrier(
        id=o.id, name=o.name, carries_hazardous=policy.carries_hazardous(o, None)) for o in page], next_cursor=cursor)
