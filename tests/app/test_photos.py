"""Photos: thumbnails in lists and on the lot page; copies shown to others carry no EXIF; the original is kept."""
from __future__ import annotations

import io

import sqlalchemy as sa
from PIL import Image

from models import LotDocument, OrganizationRole
from tests.conftest import csrf_token
from tests.factories import FacilityFactory, LotFactory, OrganizationFactory, UserFactory, photo_bytes


def _exif_with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"          # Make
    exif[0x0112] = 6                      # Orientation: rotate 90° to be upright
    exif[0x8825] = {1: "N", 2: (45.0, 45.0, 0.0), 3: "E", 4: (126.0, 38.0, 0.0)}  # GPS position of the yard
    return exif.tobytes()


def _setup(auth, client):
    user = UserFactory()
    lot = LotFactory(facility=FacilityFactory(organization=user.organization), title="Slag with a photo")
    auth.login(user.email)
    original = photo_bytes("JPEG", (400, 200), exif=_exif_with_gps())
    response = client.post(f"/lots/{lot.id}/documents", content_type="multipart/form-data",
                           data={"csrf_token": csrf_token(client, f"/lots/{lot.id}"),
                                 "file": (io.BytesIO(original), "yard.jpg")})
    assert response.status_code == 302
    return user, lot, original


def _buyer(auth):
    auth.logout()
    buyer = UserFactory(role="recycler", organization=OrganizationFactory(roles=[OrganizationRole(role="recycler")]))
    auth.login(buyer.email)


def test_an_upload_gets_an_exif_free_upright_thumbnail_and_keeps_its_original(auth, client, db, reference):
    _user, lot, original = _setup(auth, client)
    doc = db.session.scalar(sa.select(LotDocument))
    assert client.get(f"/lots/{lot.id}/documents/{doc.id}").data == original  # the producer: the original
    _buyer(auth)
    thumb = client.get(f"/lots/{lot.id}/photos/{doc.id}/thumb.jpg")
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    image = Image.open(io.BytesIO(thumb.data))
    assert max(image.size) <= 320 and image.size[1] > image.size[0]  # turned upright from the 400×200 landscape
    assert not image.getexif() and b"Exif" not in thumb.data and b"PhoneMaker" not in thumb.data
    shown = client.get(f"/lots/{lot.id}/documents/{doc.id}")  # a buyer opening the photo
    assert shown.mimetype == "image/jpeg" and b"PhoneMaker" not in shown.data and shown.data != original


def test_thumbnails_show_in_the_list_and_on_the_lot_page(auth, client, db, reference):
    _user, lot, _original = _setup(auth, client)
    doc = db.session.scalar(sa.select(LotDocument))
    thumb_url = f"/lots/{lot.id}/photos/{doc.id}/thumb.jpg"
    assert thumb_url in client.get("/lots").get_data(as_text=True)
    assert thumb_url in client.get(f"/lots/{lot.id}").get_data(as_text=True)
    auth.logout()
    assert thumb_url not in client.get("/lots").get_data(as_text=True)  # documents need sign-in
    assert client.get(thumb_url).status_code == 302


def test_a_corrupt_image_is_refused_and_nothing_stays(auth, client, db, reference):
    user = UserFactory()
    lot = LotFactory(facility=FacilityFactory(organization=user.organization))
    auth.login(user.email)
    broken = photo_bytes("PNG")[:40]
    response = client.post(f"/lots/{lot.id}/documents", content_type="multipart/form-data",
                           data={"csrf_token": csrf_token(client, f"/lots/{lot.id}"),
                                 "file": (io.BytesIO(broken), "broken.png")})
    assert response.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count(LotDocument.id))) == 0


def test_a_pdf_has_no_photo_copy(auth, client, db, reference):
    user = UserFactory()
    lot = LotFactory(facility=FacilityFactory(organization=user.organization))
    auth.login(user.email)
    client.post(f"/lots/{lot.id}/documents", content_type="multipart/form-data",
                data={"csrf_token": csrf_token(client, f"/lots/{lot.id}"),
                      "file": (io.BytesIO(b"%PDF-1.4\n%\xe2\xe3\n"), "assay.pdf")})
    doc = db.session.scalar(sa.select(LotDocument))
    assert client.get(f"/lots/{lot.id}/photos/{doc.id}/thumb.jpg").status_code == 404
