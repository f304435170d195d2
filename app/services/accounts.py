"""Accounts: register an organisation with its first user, sign in with throttling, verify."""
from __future__ import annotations

import datetime as dt
import functools
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _
from werkzeug.security import check_password_hash, generate_password_hash

from app import policy
from app.services import audit
from app.services.errors import ServiceError, Throttled
from models import LoginAttempt, Organization, OrganizationRole, User, utcnow
from models.credit_code import CreditCodeError, make_credit_code, normalise_credit_code
from models.orgs import new_session_nonce


@dataclass(frozen=True)
class Registration:
    """What the registration form collects."""

    organization_name: str
    credit_code: str
    role: str
    user_name: str
    email: str
    password: str


def register(session: so.Session, form: Registration) -> User:
    """Create an unverified organisation and its first user; raise ServiceError on conflicts."""
    try:
        code = normalise_credit_code(form.credit_code)
    except CreditCodeError as exc:
        raise ServiceError(_("Invalid unified social credit code: %(reason)s", reason=_credit_code_reason(exc)),
                           field="credit_code") from exc
    if form.role not in policy.SELF_REGISTERED_ORG_ROLES:
        raise ServiceError(_("Choose a valid role."), field="role")
    email = form.email.strip().lower()
    if session.scalar(sa.select(Organization.id).where(Organization.credit_code == code)):
        raise ServiceError(_("An organisation with this credit code is already registered."),
                           field="credit_code")
    if session.scalar(sa.select(User.id).where(User.email == email)):
        raise ServiceError(_("This e-mail address is already registered."), field="email")
    org = Organization(name=form.organization_name.strip(), credit_code=code, verified=False,
                       roles=[OrganizationRole(role=form.role)])
    user = User(email=email, name=form.user_name.strip(), role=policy.USER_ROLE_FOR_ORG_ROLE[form.role],
                password_hash=generate_password_hash(form.password), organization=org)
    session.add_all([org, user])
    session.flush()
    audit.record(session, user.id, "organization", org.id, "registered", {"name": org.name, "code": code})
    session.commit()
    return user


@dataclass(frozen=True)
class Invitation:
    """An official's account an administrator creates: the agency (found by credit code, or made) and the person."""

    organization_name: str
    credit_code: str
    role: str  # a user role of policy.INVITED_USER_ROLES
    user_name: str
    email: str
    base_code: str | None = None  # a base officer's base


def invite_official(session: so.Session, admin: User | None, invite: Invitation) -> tuple[User, str]:
    """Create a regulator's or base officer's account in a verified agency; return it with a one-time password.

    Officials are never self-registered (app.policy): the administrator who invites them vouches for the agency.
    """
    if admin is not None:
        policy.require(policy.may_administer(admin))
    if invite.role not in policy.INVITED_USER_ROLES:
        raise ServiceError(_("Choose a valid role."), field="role")
    try:
        code = normalise_credit_code(invite.credit_code)
    except CreditCodeError as exc:
        raise ServiceError(_("Invalid unified social credit code: %(reason)s", reason=_credit_code_reason(exc)),
                           field="credit_code") from exc
    email = invite.email.strip().lower()
    if session.scalar(sa.select(User.id).where(User.email == email)):
        raise ServiceError(_("This e-mail address is already registered."), field="email")
    base = _invited_base(session, invite)
    org_role = policy.ORG_ROLE_FOR_USER_ROLE[invite.role]
    org = session.scalar(sa.select(Organization).where(Organization.credit_code == code))
    if org is None:
        org = Organization(name=invite.organization_name.strip(), credit_code=code,
                           roles=[OrganizationRole(role=org_role)], base=base)
        session.add(org)
    elif org_role not in org.role_names or (base is not None and org.base_id != base.id):
        raise ServiceError(_("An organisation with this credit code exists but is not this agency."),
                           field="credit_code")
    org.verified, org.verified_at = True, org.verified_at or utcnow()
    password = secrets.token_urlsafe(12)
    user = User(email=email, name=invite.user_name.strip(), role=invite.role, organization=org,
                password_hash=generate_password_hash(password))
    session.add(user)
    session.flush()
    audit.record(session, admin.id if admin else None, "user", user.id, "invited",
                 {"email": email, "role": invite.role, "organization": org.id})
    session.commit()
    return user, password


def _invited_base(session: so.Session, invite: Invitation):
    from models import ResourceBase

    if invite.role != policy.BASE_OFFICER:
        return None
    base = session.scalar(sa.select(ResourceBase).where(ResourceBase.code == (invite.base_code or "")))
    if base is None:
        raise ServiceError(_("Choose the officer's base."), field="base_code")
    return base


def _credit_code_reason(exc: CreditCodeError) -> str:
    """The validation failure in the user's language."""
    reasons = {
        "length": lambda p: _("must be 18 characters, got %(length)d", **p),
        "characters": lambda p: _("contains characters not allowed: %(bad)s", **p),
        "check": lambda p: _("check character should be %(expected)s, got %(got)s", **p),
    }
    return reasons[exc.kind](exc.params)


@dataclass(frozen=True)
class Throttle:
    """Sign-in limits within a window: failures per account, and a higher number per client address."""

    per_account: int
    per_address: int
    window_minutes: int


def authenticate(session: so.Session, email: str, password: str, remote_addr: str, throttle: Throttle,
                 trusted_device: bool = False) -> User | None:
    """Return the user for good credentials, None for bad; raise Throttled after too many failures.

    Failures count per account (e-mail) and, separately and higher, per address, so guessing at unknown
    e-mails from one place never locks anyone else out. A browser that signed in to this account before
    (`trusted_device`) is not held back by others' failures on it. Unknown e-mails cost a password hash too.
    """
    email = (email or "").strip().lower()[:254]
    since = utcnow() - dt.timedelta(minutes=throttle.window_minutes)
    failed = sa.select(sa.func.count(LoginAttempt.id)).where(LoginAttempt.succeeded.is_(False),
                                                             LoginAttempt.attempted_at >= since)
    # A browser that signed in to this account before is held back by neither count: others' guessing from the
    # same address (an office, a misconfigured proxy) or at the same account must not lock its owner out.
    by_address = 0 if trusted_device else session.scalar(failed.where(LoginAttempt.remote_addr == remote_addr))
    by_account = 0 if trusted_device else session.scalar(failed.where(LoginAttempt.email == email))
    if by_address >= throttle.per_address or by_account >= throttle.per_account:
        raise Throttled(_("Too many failed sign-ins. Try again in %(minutes)d minutes.",
                          minutes=throttle.window_minutes), retry_after=throttle.window_minutes * 60)
    user = session.scalar(sa.select(User).where(User.email == email))
    # The same work whether or not the e-mail exists, so timing does not tell which accounts do.
    matches = check_password_hash(user.password_hash if user is not None else _dummy_hash(), password)
    ok = user is not None and user.active and matches
    session.add(LoginAttempt(email=email, remote_addr=remote_addr[:64], succeeded=ok))
    if ok:
        user.last_login_at = utcnow()
    session.commit()
    return user if ok else None


@functools.cache
def _dummy_hash() -> str:
    return generate_password_hash(secrets.token_hex(16))


def end_sessions(session: so.Session, user: User) -> None:
    """Invalidate every session of the user (sign-out, password change): their cookies stop loading the user."""
    user.session_nonce = new_session_nonce()
    session.commit()


def change_password(session: so.Session, user: User, current: str, new: str) -> User:
    """Change the user's password after checking the current one; every other session ends."""
    if not check_password_hash(user.password_hash, current or ""):
        raise ServiceError(_("The current password is wrong."), field="current_password")
    if not 10 <= len(new or "") <= 128:
        raise ServiceError(_("Choose a password of 10 to 128 characters."), field="password")
    user.password_hash = generate_password_hash(new)
    user.session_nonce = new_session_nonce()
    audit.record(session, user.id, "user", user.id, "password_changed")
    session.commit()
    return user


def organizations_for_review(session: so.Session) -> list[Organization]:
    """Every organisation, unverified first, newest first within each group (the admin's review list)."""
    return list(session.scalars(
        sa.select(Organization).order_by(Organization.verified, Organization.created_at.desc(), Organization.id.desc())
    ))


@dataclass(frozen=True)
class OrganizationFilters:
    """What the administrator narrows the organisation list by; None means no filter."""

    q: str | None = None
    role: str | None = None
    verified: bool | None = None


def search_organizations(session: so.Session, filters: OrganizationFilters, page: int, per_page: int
                         ) -> tuple[list[Organization], int, int]:
    """One page of organisations (unverified first, newest first), the total and the page actually shown."""
    query = sa.select(Organization)
    if filters.q and filters.q.strip():
        needle = filters.q.strip().lower()
        query = query.where(sa.or_(sa.func.lower(Organization.name).contains(needle, autoescape=True),
                                   sa.func.lower(sa.func.coalesce(Organization.name_en, "")).contains(
                                       needle, autoescape=True),
                                   sa.func.lower(Organization.credit_code).contains(needle, autoescape=True)))
    if filters.role:
        query = query.where(Organization.roles.any(OrganizationRole.role == filters.role))
    if filters.verified is not None:
        query = query.where(Organization.verified.is_(filters.verified))
    total = session.scalar(query.with_only_columns(sa.func.count(Organization.id))) or 0
    page = min(max(1, page), max(1, -(-total // per_page)))
    rows = session.scalars(query.order_by(Organization.verified, Organization.created_at.desc(),
                                          Organization.id.desc()).limit(per_page).offset((page - 1) * per_page))
    return list(rows), total, page


def is_protected(admin: User, org: Organization) -> bool:
    """The platform operator and the administrator's own organisation can never lose verification."""
    return org.id == admin.organization_id or "operator" in org.role_names


def set_verified(session: so.Session, admin: User, organization_id: int, verified: bool) -> Organization:
    """Mark an organisation verified (or not) and record who did it."""
    org = session.get(Organization, organization_id)
    if org is None:
        raise ServiceError(_("No such organisation."))
    if not verified and is_protected(admin, org):
        raise ServiceError(_("The platform operator's own organisation cannot be revoked."))
    org.verified = verified
    org.verified_at = utcnow() if verified else None
    audit.record(session, admin.id, "organization", org.id, "verified" if verified else "unverified")
    session.commit()
    return org


def create_admin(session: so.Session, email: str, name: str, password: str) -> User:
    """Create an administrator in the operator organisation (made on first use) and commit."""
    user = add_admin(session, email, name, password)
    session.commit()
    return user


def add_admin(session: so.Session, email: str, name: str, password: str) -> User:
    """Add an administrator to the session's transaction without committing it."""
    email = email.strip().lower()
    if session.scalar(sa.select(User.id).where(User.email == email)):
        raise ServiceError(f"user {email} already exists")
    operator = session.scalar(
        sa.select(Organization).join(OrganizationRole).where(OrganizationRole.role == "operator")
    )
    if operator is None:
        operator = Organization(name="固废交易平台运营方", name_en="Gufei Exchange operator",
                                credit_code=make_credit_code("91230100MA1GUFE00"), verified=True,
                                verified_at=utcnow(), roles=[OrganizationRole(role="operator")])
        session.add(operator)
    user = User(email=email, name=name, role="admin", password_hash=generate_password_hash(password),
                organization=operator)
    session.add(user)
    session.flush()
    audit.record(session, None, "user", user.id, "admin_created", {"email": email})
    return user
