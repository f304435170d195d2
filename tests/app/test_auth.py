"""Registration, sign-in, throttling, CSRF and who may trade."""
import sqlalchemy as sa

from models import Organization, User
from tests.conftest import csrf_token
from tests.factories import PASSWORD, OrganizationFactory, UserFactory

VALID_CODE = "91350100M000100Y43"


def _register(client, **overrides):
    data = {
        "organization_name": "哈尔滨测试水泥有限公司", "credit_code": VALID_CODE, "role": "recycler",
        "user_name": "王工", "email": "wang@example.com", "password": "long enough pw", "confirm": "long enough pw",
    }
    data.update(overrides)
    data["csrf_token"] = csrf_token(client, "/register")
    return client.post("/register", data=data, headers={"Accept-Language": "en"})


def test_register_creates_an_unverified_organisation_and_signs_in(client, db):
    response = _register(client)
    assert response.status_code == 302
    org = db.session.scalar(sa.select(Organization).where(Organization.credit_code == VALID_CODE))
    assert org is not None and org.verified is False
    assert org.role_names == {"recycler"}
    user = db.session.scalar(sa.select(User).where(User.email == "wang@example.com"))
    assert user.role == "recycler" and user.password_hash != "long enough pw"
    home = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "王工" in home and "not verified yet" in home


def test_register_with_a_bad_credit_code_re_renders_with_the_message_and_the_input(client, db):
    response = _register(client, credit_code="91350100M000100Y44")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "check character should be 3" in page
    assert "哈尔滨测试水泥有限公司" in page and "wang@example.com" in page
    assert db.session.scalar(sa.select(sa.func.count(Organization.id))) == 0


def test_register_with_a_taken_email_is_refused(client, db):
    UserFactory(email="wang@example.com")
    response = _register(client)
    assert response.status_code == 400
    assert "already registered" in response.get_data(as_text=True)


def test_login_with_the_right_password_signs_in(auth, db):
    UserFactory(email="li@example.com")
    response = auth.login("li@example.com", PASSWORD)
    assert response.status_code == 302


def test_login_with_a_wrong_password_is_refused(auth, client, db):
    UserFactory(email="li@example.com")
    response = auth.login("li@example.com", "wrong password")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "li@example.com" in page
    assert "错误" in page or "Wrong e-mail or password" in page


def test_repeated_failed_logins_are_throttled(auth, app, db):
    UserFactory(email="li@example.com")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert auth.login("li@example.com", "nope").status_code == 400
    response = auth.login("li@example.com", PASSWORD)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0


def test_logout_ends_the_session(auth, client, db):
    UserFactory(email="li@example.com", name="Li Lei")
    auth.login("li@example.com")
    assert "Li Lei" in client.get("/").get_data(as_text=True)
    auth.logout()
    assert "Li Lei" not in client.get("/").get_data(as_text=True)


def test_a_form_without_its_csrf_token_is_rejected(client, db):
    UserFactory(email="li@example.com")
    response = client.post("/login", data={"email": "li@example.com", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/").get_data(as_text=True).count("Sign out") == 0


def test_admin_verifies_an_organisation(auth, client, db):
    from app.services.accounts import create_admin

    create_admin(db.session, "root@example.com", "Root", PASSWORD)
    org = OrganizationFactory(verified=False, name="待审核公司")
    auth.login("root@example.com")
    page = client.get("/admin/organizations")
    assert page.status_code == 200 and "待审核公司" in page.get_data(as_text=True)
    token = csrf_token(client, "/admin/organizations")
    response = client.post(f"/admin/organizations/{org.id}/verification", data={"verified": "1", "csrf_token": token})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Organization, org.id).verified is True


def test_non_admins_cannot_open_the_verification_page(auth, client, db):
    UserFactory(email="li@example.com")
    auth.login("li@example.com")
    assert client.get("/admin/organizations").status_code == 403


def test_anonymous_users_are_sent_to_login_from_admin_pages(client, db):
    response = client.get("/admin/organizations")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
