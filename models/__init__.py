"""SQLAlchemy 2.0 models of Gufei Exchange and the engine/session factory (no Flask here)."""
from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from models.api import IdempotencyKey
from models.audit import AuditCheckpoint, AuditEvent, Notification, OutboxEmail
from models.base import Base, utcnow
from models.bases import (
    BaseTarget,
    EnterpriseEvaluation,
    FacilityYearRollup,
    GenerationReport,
    ResourceBase,
    UtilisationRollup,
)
from models.catalogue import WasteCategory
from models.clearing import Allocation, Award, ClearingLock, MatchRun
from models.dispatch import DispatchPlan, DispatchStop, Vehicle
from models.facilities import Facility, FacilityCapacity, Licence
from models.lots import Bid, DemandProfile, Lot, LotDocument, LotQuestion, SavedSearch
from models.orgs import ApiToken, LoginAttempt, Organization, OrganizationRole, User
from models.search import refresh as refresh_search_text  # importing it also registers the document's upkeep
from models.seasonal import Yard
from models.shipments import Shipment, UtilisationRecord

__all__ = [
    "Allocation", "ApiToken", "AuditCheckpoint", "AuditEvent", "Award", "Base", "BaseTarget", "Bid", "ClearingLock",
    "DemandProfile",
    "EnterpriseEvaluation", "Facility", "FacilityCapacity", "FacilityYearRollup", "GenerationReport", "IdempotencyKey",
    "Licence",
    "LoginAttempt",
    "Lot", "LotDocument", "LotQuestion", "MatchRun", "Notification", "Organization", "OrganizationRole",
    "OutboxEmail", "ResourceBase", "SavedSearch", "Shipment", "User", "UtilisationRecord", "UtilisationRollup",
    "WasteCategory", "Yard",
    "make_engine",
    "DispatchPlan", "DispatchStop", "Vehicle",
    "make_session_factory", "refresh_search_text", "utcnow",
]


def make_engine(url: str, **kwargs) -> sa.Engine:
    """Create an engine; SQLite gets foreign keys enforced and a busy timeout, servers a ping before reuse."""
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"timeout": 30})
    else:
        # A pooled connection the server closed (restart, failover, idle kill) is replaced, not handed out.
        kwargs.setdefault("pool_pre_ping", True)
    engine = sa.create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        @sa.event.listens_for(engine, "connect")
        def _enable_foreign_keys(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()
    return engine


def make_session_factory(engine: sa.Engine) -> so.sessionmaker[so.Session]:
    """A session factory that keeps loaded objects usable after commit."""
    return so.sessionmaker(engine, expire_on_commit=False)
