"""Actions, attachments, team and plan (issue 12 rules 3 and 5), and bad input: a clear
message naming the field, nothing changed."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from PIL import Image

from kongchuo.errors import AppError
from returns import selectors, services
from returns.choices import Action, Department, Duty, Help, Method
from returns.models import CaseAttachment, CasePlan, ReturnCase
from tests.returns.conftest import (
    COUNTY_USER,
    OFFICIAL,
    confirmed,
    days,
    footprint,
    joint,
    open_case,
    visit,
    working,
)

pytestmark = pytest.mark.django_db


def _jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (40, 30), "red")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (25.0, 1.0, 30.0), 3: "E", 4: (100.0, 20.0, 10.0)}  # GPS
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def _png_with_text() -> bytes:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Location", "25.5N 100.3E")
    out = io.BytesIO()
    Image.new("RGB", (20, 20), "blue").save(out, "PNG", pnginfo=info)
    return out.getvalue()


def test_visit_records_date_method_participants_result_and_counts_joint_persuasions(world, child):
    case = working(world, child)
    cadre = world.user("xz1_cungan")
    action = visit(world, case, participants=[cadre], participant_names="村委会主任 李华")
    assert set(action.participants.values_list("username", flat=True)) == {OFFICIAL, "xz1_cungan"}
    assert action.step == 1
    joint(world, case, 2)
    assert selectors.joint_count(case) == 2
    case.refresh_from_db()
    assert case.last_action_on == days(0) and case.version == 5
    assert case.events.filter(action=Action.ACTION).count() == 3


def test_photo_metadata_is_stripped_and_the_hash_kept(world, child):
    case = working(world, child)
    photo = SimpleUploadedFile("visit.jpg", _jpeg_with_gps(), content_type="image/jpeg")
    board = SimpleUploadedFile("board.png", _png_with_text(), content_type="image/png")
    pdf = SimpleUploadedFile("notice.pdf", b"%PDF-1.4\n%EOF\n", content_type="application/pdf")
    action = visit(world, case, attachments=[photo, board, pdf])
    stored = {a.content_type: a for a in action.attachments.all()}
    assert set(stored) == {"image/jpeg", "image/png", "application/pdf"}
    with stored["image/jpeg"].file.open("rb") as handle:
        data = handle.read()
    with Image.open(io.BytesIO(data)) as image:
        assert not image.getexif() and "exif" not in image.info
    with stored["image/png"].file.open("rb") as handle, Image.open(handle) as image:
        assert "Location" not in image.info
    import hashlib

    assert stored["image/jpeg"].sha256 == hashlib.sha256(data).hexdigest()
    assert stored["image/jpeg"].size == len(data)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"date": days(1)}, "date"),  # an action dated in the future
        ({"date": None}, "date"),
        ({"method": "letter"}, "method"),
        ({"result": "  "}, "result"),
        ({"method": Method.JOINT}, "departments"),  # a joint persuasion names its departments
        ({"departments": [Department.POLICE]}, "departments"),
        ({"method": Method.JOINT, "departments": ["army"]}, "departments"),
    ],
)
def test_bad_action_input_is_refused_naming_the_field_and_nothing_changes(
    world, child, overrides, field
):
    case = working(world, child)
    before = footprint(case)
    with pytest.raises(AppError) as refused:
        visit(world, case, **overrides)
    assert field in refused.value.errors
    assert footprint(case) == before


@override_settings(RETURNS_ATTACHMENT_MAX_BYTES=1000)
@pytest.mark.parametrize(
    "upload",
    [
        SimpleUploadedFile("big.pdf", b"%PDF-" + b"0" * 2000, content_type="application/pdf"),
        SimpleUploadedFile("visit.docx", b"PK\x03\x04 not a picture", content_type="image/jpeg"),
        SimpleUploadedFile("fake.jpg", b"\xff\xd8\xff broken", content_type="image/jpeg"),
    ],
    ids=["too-big", "not-image-or-pdf", "broken-image"],
)
def test_attachment_too_big_or_not_an_image_or_pdf_is_refused_and_nothing_changes(
    world, child, upload
):
    case = working(world, child)
    before = footprint(case)
    with pytest.raises(AppError) as refused:
        visit(world, case, attachments=[upload])
    assert "attachments" in refused.value.errors
    assert footprint(case) == before and not CaseAttachment.objects.exists()


def test_plan_versions_are_all_kept(world, child):
    case = working(world, child)
    official = world.user(OFFICIAL)
    services.plan_save(
        by=official, case=case, cause="厌学", measures="结对帮扶", help=[Help.LEARNING]
    )
    services.plan_save(
        by=official,
        case=case,
        cause="厌学，家庭困难",
        measures="结对帮扶，申请资助",
        help=[Help.LEARNING, Help.SUBSIDY],
    )
    assert list(case.plans.values_list("version", flat=True)) == [2, 1]
    assert case.plans.first().help == [Help.LEARNING, Help.SUBSIDY]
    with pytest.raises(PermissionError):
        CasePlan.objects.filter(case=case).update(cause="改写")
    with pytest.raises(AppError) as refused:
        services.plan_save(by=official, case=case, cause="", measures="x")
    assert "cause" in refused.value.errors


def test_team_members_get_the_case_in_my_cases_and_a_wrong_duty_is_refused(world, child):
    case = working(world, child)
    official = world.user(OFFICIAL)
    teacher = world.user("xz1_xx1_banzhuren")
    before = footprint(case)
    with pytest.raises(AppError) as refused:
        services.team_set(by=official, case=case, members=[(teacher, Duty.CADRE)])
    assert "members" in refused.value.errors and footprint(case) == before
    with pytest.raises(AppError):  # another county's account
        services.member_add(by=official, case=case, user=world.user("c2_xz1_ganbu"), duty="cadre")
    services.team_set(
        by=official,
        case=case,
        members=[(teacher, Duty.TEACHER), (world.user("xz1_cungan"), Duty.VILLAGE_CADRE)],
    )
    assert case in selectors.my_cases(teacher)
    services.member_remove(by=official, case=case, user=teacher)
    assert case not in selectors.my_cases(teacher)
    assert case.events.filter(action=Action.TEAM).count() == 2


def test_a_case_for_an_entry_that_is_not_a_confirmed_dropout_is_refused(world, child):
    from ledger.choices import State
    from tests.ledger.conftest import entry_in

    entry = entry_in(world, State.PENDING, child)
    with pytest.raises(AppError) as refused:
        services.case_open(by=world.user(COUNTY_USER), entry=entry)
    assert "entry" in refused.value.errors and not ReturnCase.objects.exists()


def test_a_second_open_case_for_an_entry_is_refused(world, child):
    case = open_case(world, child)
    with pytest.raises(AppError) as refused:
        services.case_open(by=world.user(COUNTY_USER), entry=case.entry)
    assert "entry" in refused.value.errors and ReturnCase.objects.count() == 1


def test_only_the_county_opens_a_case(world, child):
    entry = confirmed(world, child)
    with pytest.raises(AppError):
        services.case_open(by=world.user(OFFICIAL), entry=entry)
    assert not ReturnCase.objects.exists()
