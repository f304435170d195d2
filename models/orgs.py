"""Organisations, their users, API tokens and login attempts."""
from __future__ import annotations

import datetime as dt
import secrets
from typing import TYPE_CHECKING, Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from models.base import Base, TimestampMixin, in_set, utcnow

if TYPE_CHECKING:
    from models.bases import ResourceBase
    from models.facilities import Facility

ORG_ROLES = ("producer", "recycler", "carrier", "base_operator", "regulator", "operator")
USER_ROLES = ("producer", "recycler", "carrier", "base_officer", "regulator", "admin")


def new_session_nonce() -> str:
    """A fresh random session nonce."""
    return secrets.token_hex(16)


class Organization(TimestampMixin, Base):
    """A company or agency; only verified organisations trade."""

    __tablename__ = "organizations"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    name_en: so.Mapped[Optional[str]] = so.mapped_column(sa.String(200))
    credit_code: so.Mapped[str] = so.mapped_column(sa.String(18), unique=True)
    verified: so.Mapped[bool] = so.mapped_column(default=False, index=True)
    verified_at: so.Mapped[Optional[dt.datetime]]
    base_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("bases.id"))
    is_demo: so.Mapped[bool] = so.mapped_column(default=False)
    # 道路危险货物运输许可证 of a carrier: hazardous loads move only while it is valid (app.policy.carries_hazardous).
    dg_permit_no: so.Mapped[Optional[str]] = so.mapped_column(sa.String(40))
    dg_permit_valid_until: so.Mapped[Optional[dt.date]]

    roles: so.Mapped[list[OrganizationRole]] = so.relationship(
        back_populates="organization", cascade="all, delete-orphan", lazy="selectin"
    )
    users: so.WriteOnlyMapped[User] = so.relationship(back_populates="organization")
    facilities: so.WriteOnlyMapped[Facility] = so.relationship(back_populates="organization")
    base: so.Mapped[Optional[ResourceBase]] = so.relationship()

    @property
    def role_names(self) -> set[str]:
        """The organisation's roles as a set of names."""
        return {r.role for r in self.roles}


class OrganizationRole(Base):
    """One role an organisation plays in the market."""

    __tablename__ = "organization_roles"
    __table_args__ = (sa.CheckConstraint(in_set("role", ORG_ROLES), name="role"),)

    organization_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    role: so.Mapped[str] = so.mapped_column(sa.String(20), primary_key=True)
    organization: so.Mapped[Organization] = so.relationship(back_populates="roles")


class User(TimestampMixin, Base):
    """A person who signs in; belongs to exactly one organisation."""

    __tablename__ = "users"
    __table_args__ = (sa.CheckConstraint(in_set("role", USER_ROLES), name="role"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    email: so.Mapped[str] = so.mapped_column(sa.String(254), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    password_hash: so.Mapped[str] = so.mapped_column(sa.String(256))
    role: so.Mapped[str] = so.mapped_column(sa.String(20), index=True)
    organization_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("organizations.id"), index=True)
    active: so.Mapped[bool] = so.mapped_column(default=True)
    locale: so.Mapped[Optional[str]] = so.mapped_column(sa.String(10))
    last_login_at: so.Mapped[Optional[dt.datetime]]
    # Part of every session cookie's user id; a new nonce (logout, password change) ends every older session.
    session_nonce: so.Mapped[str] = so.mapped_column(sa.String(32), default=new_session_nonce)

    organization: so.Mapped[Organization] = so.relationship(back_populates="users", lazy="joined")
    tokens: so.WriteOnlyMapped[ApiToken] = so.relationship(back_populates="user")


class ApiToken(Base):
    """A bearer token; only its SHA-256 digest is stored."""

    __tablename__ = "api_tokens"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(100))
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    prefix: so.Mapped[str] = so.mapped_column(sa.String(12))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    last_used_at: so.Mapped[Optional[dt.datetime]]
    revoked_at: so.Mapped[Optional[dt.datetime]]

    user: so.Mapped[User] = so.relationship(back_populates="tokens")


class LoginAttempt(Base):
    """A sign-in attempt, kept to throttle repeated failures by e-mail and address."""

    __tablename__ = "login_attempts"
    __table_args__ = (sa.Index("ix_login_attempts_email_at", "email", "attempted_at"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    email: so.Mapped[str] = so.mapped_column(sa.String(254))
    remote_addr: so.Mapped[str] = so.mapped_column(sa.String(64), index=True)
    succeeded: so.Mapped[bool]
    attempted_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
