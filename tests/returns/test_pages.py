"""The 劝返 case pages (issue 12): opening a case from a confirmed dropout with the proposed
劝返主体 and its rule, the case page everyone with access reads (buttons only for those who
work the case), one form per action through the one service — a bad input is the service's
Chinese message on the field it names and nothing changes — and the attachments, scoped."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from ledger.choices import State
from ledger.models import LedgerEntry
from returns import services
from returns.choices import CaseState, Duty, Method, Step
from returns.models import CaseAttachment, ReturnCase
from tests.ledger.conftest import entry_in, head_class, make_student, township
from tests.ledger.conftest import footprint as entry_footprint
from tests.returns.conftest import (
    COUNTY_USER,
    OFFICIAL,
    TODAY,
    confirmed,
    days,
    footprint,
    fresh,
    open_case,
    visit,
    working,
)

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return response.content.decode()


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, "JPEG")
    return out.getvalue()


def said(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def post(client, case, action, data, **kwargs):
    return client.post(f"/returns/{case.pk}/{action}/", data, **kwargs)


@pytest.fixture
def elsewhere(world):
    """A child of township xz1's school whose 户籍 is township xz2: xz2 persuades, xz1 reads."""
    return make_student(world, grade=1, hukou_region=township(world, "xz2_ganbu"))


# -- opening a case ----------------------------------------------------------------------------


def test_open_page_shows_the_proposed_township_and_the_rule_and_confirming_sends_it(world, child):
    """Rule 1 on the page: the 户籍地 township is proposed, the rule named; confirming sends
    the instruction, the entry moves to 劝返中 and the message says the township must sign."""
    entry = confirmed(world, child)
    client = world.client(COUNTY_USER)
    page = client.get(f"/ledger/{entry.pk}/return-case/")
    assert page.status_code == 200
    assert "户籍地乡镇" in text(page)
    assert f"由户籍地{entry.township.name}劝返。" in text(page)
    response = client.post(f"/ledger/{entry.pk}/return-case/", {}, follow=True)
    case = ReturnCase.objects.get(entry=entry)
    assert response.redirect_chain[-1][0] == f"/returns/{case.pk}/"
    assert any("须在2日内签收" in m and entry.township.name in m for m in said(response))
    assert case.state == CaseState.INSTRUCTED
    assert LedgerEntry.objects.get(pk=entry.pk).state == State.PERSUADING


def test_open_changing_the_township_needs_a_reason_and_changes_nothing_without_one(world, child):
    entry = confirmed(world, child)
    client = world.client(COUNTY_USER)
    before = entry_footprint(entry)
    other = township(world, "xz2_ganbu")
    url = f"/ledger/{entry.pk}/return-case/"
    response = client.post(url, {"township": other.code})
    assert response.status_code == 200
    assert "改派须填写理由" in str(response.context["form"].errors["reason"])
    assert not ReturnCase.objects.filter(entry=entry).exists()
    assert entry_footprint(entry) == before
    client.post(url, {"township": other.code, "reason": "孩子随外婆住在xz2"})
    case = ReturnCase.objects.get(entry=entry)
    assert case.township == other and case.override_reason == "孩子随外婆住在xz2"


def test_open_refuses_an_entry_not_confirmed_and_a_second_open_case_with_the_reason(world, child):
    pending = entry_in(world, State.PENDING, child)
    client = world.client(COUNTY_USER)
    response = client.post(f"/ledger/{pending.pk}/return-case/", {})
    assert "只有“已确认辍学”的台账记录可以下达劝返指令" in text(response)
    assert not ReturnCase.objects.exists()

    other = make_student(world, grade=1, klass=head_class(world), name="王小红")
    case = open_case(world, other)
    page = client.get(f"/ledger/{case.entry_id}/return-case/")
    assert "该台账记录已有未结案的劝返案件" in text(page)
    response = client.post(f"/ledger/{case.entry_id}/return-case/", {})
    # The entry is 劝返中 now, and a second case is refused either way.
    assert "可以下达劝返指令" in text(response)
    assert ReturnCase.objects.filter(entry=case.entry).count() == 1


def test_open_offers_the_moved_after_dropout_rule_when_it_applies(world, elsewhere):
    """Rule 1: a child who moved after dropping out → the earlier (school's) township
    persuades and the 户籍 township works with it."""
    entry = confirmed(world, elsewhere)
    url = f"/ledger/{entry.pk}/return-case/"
    page = world.client(COUNTY_USER).get(url)
    assert "moved_after_dropout" in page.context["form"].fields
    assert "辍学后迁出" in text(page)
    world.client(COUNTY_USER).post(url, {"moved_after_dropout": "on"})
    case = ReturnCase.objects.get(entry=entry)
    assert case.township == township(world) and case.co_township == township(world, "xz2_ganbu")


def test_open_page_of_a_child_whose_hukou_is_outside_the_county_says_the_county_holds_it(
    world,
):
    """Rule 1: 户籍地 outside the county → the county holds the case and notifies in writing."""
    outside = township(world, "c2_xz1_ganbu")
    student = make_student(world, grade=1, hukou_region=outside)
    entry = confirmed(world, student)
    url = f"/ledger/{entry.pk}/return-case/"
    page = world.client(COUNTY_USER).get(url)
    assert "县教体局暂管" in text(page) and "户籍地在县外" in text(page)
    response = world.client(COUNTY_USER).post(url, {}, follow=True)
    assert any("由县教体局暂管" in m for m in said(response))
    assert ReturnCase.objects.get(entry=entry).township is None


def test_open_page_is_403_for_a_township_and_404_for_another_county(world, child):
    entry = confirmed(world, child)
    url = f"/ledger/{entry.pk}/return-case/"
    refused = world.client(OFFICIAL).get(url)
    assert refused.status_code == 403 and "无权操作" in text(refused)
    missing = world.client("c2_xian_staff").get(url)
    assert missing.status_code == 404 and "未找到该页面或记录" in text(missing)
    assert child.name not in text(missing)
    assert world.client(OFFICIAL).post(url, {}).status_code == 403
    assert not ReturnCase.objects.exists()


# -- the case page -----------------------------------------------------------------------------


def test_case_page_for_each_reader_buttons_only_for_those_who_work_it(world, child):
    """Rule 2 on the page: the township and the team act, the school and the county read
    (the county may reassign), another township gets 404 until on the team."""
    case = open_case(world, child)
    url = f"/returns/{case.pk}/"
    township_page = world.client(OFFICIAL).get(url)
    assert [a.value for a in township_page.context["possible"]] == ["acknowledge", "notice"]
    assert child.name in text(township_page) and "待签收" in text(township_page)
    assert f'href="/returns/{case.pk}/acknowledge/"' in text(township_page)

    county = world.client(COUNTY_USER).get(url)
    assert [a.value for a in county.context["possible"]] == ["reassign"]

    school = world.client("xz1_xx1_guanli").get(url)
    assert school.context["possible"] == []
    assert 'data-testid="case-actions"' not in text(school)
    assert "本账号只能查看该劝返案件" in text(school)

    outsider = world.client("xz2_ganbu").get(url)
    assert outsider.status_code == 404 and child.name not in text(outsider)
    other_county = world.client("c2_xian_staff").get(url)
    assert other_county.status_code == 404 and "未找到该页面或记录" in text(other_county)
    assert child.name not in text(other_county)

    case = services.case_acknowledge(by=world.user(OFFICIAL), case=case)
    services.member_add(
        by=world.user(OFFICIAL), case=case, user=world.user("xz2_ganbu"), duty=Duty.CADRE
    )
    member = world.client("xz2_ganbu").get(url)
    assert member.status_code == 200
    assert "action" in [a.value for a in member.context["possible"]]
    assert "包保干部" in text(member)
    form = world.client("xz2_ganbu").get(f"{url}action/")
    assert form.status_code == 200 and "劝返情况及结果" in text(form)


def test_schools_township_reads_without_buttons_and_gets_403_on_post(world, elsewhere):
    case = services.case_open(by=world.user(COUNTY_USER), entry=confirmed(world, elsewhere))
    case = services.case_acknowledge(by=world.user("xz2_ganbu"), case=case)
    page = world.client("xz1_ganbu").get(f"/returns/{case.pk}/")
    assert page.status_code == 200 and page.context["possible"] == []
    assert "本账号只能查看" in text(page)
    reader, school, other = (
        world.client(u) for u in ("xz1_ganbu", "xz1_xx1_guanli", "c2_xian_staff")
    )
    before = footprint(case)
    response = post(reader, case, "action", {"date": TODAY(), "method": "visit", "result": "x"})
    assert response.status_code == 403
    assert "只有责任乡镇和包保人员可以办理该劝返案件" in text(response)
    assert footprint(case) == before
    assert post(school, case, "step", {"step": 2}).status_code == 403
    assert post(other, case, "action", {}).status_code == 404
    assert footprint(case) == before


def test_case_page_shows_steps_deadline_team_plan_versions_visits_and_one_timeline(world, child):
    case = working(world, child)
    official = world.user(OFFICIAL)
    services.member_add(
        by=official, case=case, user=world.user("xz1_cungan"), duty=Duty.VILLAGE_CADRE
    )
    services.plan_save(by=official, case=case, cause="厌学", measures="每周家访", help=["learning"])
    services.plan_save(by=official, case=case, cause="厌学，沉迷手机", measures="每周家访两次")
    photo = SimpleUploadedFile("v.jpg", jpeg(), content_type="image/jpeg")
    visit(world, case, attachments=[photo], result="监护人答应劝说孩子")
    services.step_advance(by=official, case=case, step=Step.ORDER, deadline=days(10))
    for username in (OFFICIAL, "xz1_xx1_guanli", COUNTY_USER):
        page = world.client(username).get(f"/returns/{case.pk}/")
        body = text(page)
        assert [status for _, status in page.context["steps"]] == [
            "done",
            "current",
            "ahead",
            "ahead",
        ]
        assert f"{days(10):%Y-%m-%d}" in body  # the 责令改正 deadline
        assert "驻村干部" in body
        assert "第2版" in body and "沉迷手机" in body
        assert "此前的1个版本" in body and "学习帮扶" in body
        assert "监护人答应劝说孩子" in body
        attachment = CaseAttachment.objects.get(action__case=case)
        assert f"/returns/attachments/{attachment.pk}/" in body
        timeline = [e.get_action_display() for e in page.context["timeline"]]
        assert timeline[:3] == ["下达劝返指令", "签收", "调整包保人员"]
        assert timeline[-1] == "推进劝返步骤"


# -- the action forms: bad input is the service's message on its field, nothing changes ---------


BAD_INPUT = [
    # (action, data, field, message) — each from the rule the service holds.
    ("action", {"date": days(1), "method": "visit", "result": "x"}, "date", "劝返日期不能晚于今天"),
    (
        "action",
        {"date": TODAY, "method": "joint", "result": "x"},
        "departments",
        "联合劝返须选择参与的部门",
    ),
    ("action", {"date": TODAY, "method": "visit", "result": " "}, "result", "请填写劝返情况及结果"),
    ("step", {"step": 1}, "step", "劝返步骤不能回退或重复"),
    ("step", {"step": 2}, "step_deadline", "责令改正须填写限期改正的截止日期"),
    ("step", {"step": 3}, "reason", "跳过“责令改正”须填写理由"),
    ("plan", {"cause": "", "measures": "家访"}, "cause", "请填写原因分析"),
    (
        "notice",
        {"region": "532926101", "text": "请协助"},
        "region",
        "告知对象应为本案件责任单位以外",
    ),
    ("team", {"usernames": "c2_xz1_ganbu"}, "usernames", "找不到本县的在用账号：c2_xz1_ganbu"),
    ("return", {"placement": "", "returned_on": TODAY}, "placement", "请选择安置方式"),
    ("return", {"placement": "regular", "school": ""}, "school", "请填写复学学校"),
    (
        "return",
        {"placement": "regular", "returned_on": days(1)},
        "returned_on",
        "复学日期不能晚于今天",
    ),
    ("defer", {"reason": "仍拒绝"}, "court_ruling", "暂不能办理延缓入学或休学"),
]


@pytest.mark.parametrize(
    ("action", "data", "field", "message"),
    BAD_INPUT,
    ids=[f"{a}-{f or 'all'}" for a, _, f, _ in BAD_INPUT],
)
def test_each_form_shows_the_chinese_error_on_its_field_and_changes_nothing(
    world, child, action, data, field, message
):
    case = working(world, child)
    data = {key: value() if callable(value) else value for key, value in data.items()}
    if action == "return":  # the receiving school, unless the row leaves it out
        data = {"school": child.school.code, "returned_on": TODAY(), **data}
    client = world.client(OFFICIAL)
    before = footprint(case)
    response = post(client, case, action, data)
    assert response.status_code == 200
    form = response.context["form"]
    errors = form.errors[field] if field else form.non_field_errors()
    assert errors
    if message:
        assert message in " ".join(errors)
        assert message in text(response)
    assert footprint(case) == before


def test_visit_with_an_attachment_that_is_not_an_image_is_refused_on_the_field(world, child):
    case = working(world, child)
    client = world.client(OFFICIAL)
    before = footprint(case)
    upload = SimpleUploadedFile("x.docx", b"PK\x03\x04 not a picture", content_type="image/jpeg")
    data = {"date": TODAY(), "method": "visit", "result": "见到监护人", "attachments": [upload]}
    response = post(client, case, "action", data)
    assert "不是图片（JPG、PNG）或PDF文件" in " ".join(
        response.context["form"].errors["attachments"]
    )
    assert footprint(case) == before


def test_close_needs_the_follow_up_note_and_a_returned_case(world, child):
    case = working(world, child)
    client = world.client(OFFICIAL)
    early = post(client, case, "close", {"note": "ok"}, follow=True)
    assert any("不能执行“结案”" in m for m in said(early))
    case = services.case_return(by=world.user(OFFICIAL), case=case, placement="regular")
    before = footprint(case)
    response = post(client, case, "close", {"note": ""})
    assert "请填写跟踪情况" in " ".join(response.context["form"].errors["note"])
    assert footprint(case) == before


# -- the action forms: success ----------------------------------------------------------------


def test_visit_form_defaults_to_today_offers_the_team_and_records_with_photos(world, child):
    """A home visit on the phone: today's date preset (not later than today), the team to
    tick, the four methods, photos from the camera; the message says what comes next."""
    case = working(world, child)
    services.member_add(
        by=world.user(OFFICIAL), case=case, user=world.user("xz1_cungan"), duty=Duty.VILLAGE_CADRE
    )
    page = world.client(OFFICIAL).get(f"/returns/{case.pk}/action/")
    body = text(page)
    assert f'value="{TODAY():%Y-%m-%d}"' in body and f'max="{TODAY():%Y-%m-%d}"' in body
    assert 'accept="image/*,application/pdf"' in body and "multiple" in body
    assert [label for _, label in page.context["form"].fields["method"].choices] == [
        "上门",
        "电话",
        "约谈",
        "联合劝返",
    ]
    cadre = world.user("xz1_cungan")
    photo = SimpleUploadedFile("home.jpg", jpeg(), content_type="image/jpeg")
    response = post(
        world.client(OFFICIAL),
        case,
        "action",
        {
            "date": TODAY(),
            "method": Method.JOINT,
            "departments": ["police", "village_committee"],
            "participants": [cadre.pk],
            "participant_names": "村民小组长",
            "result": "监护人同意送孩子返校",
            "attachments": [photo],
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == f"/returns/{case.pk}/"
    assert any("联合劝返劝返，附件1个" in m or "联合劝返" in m for m in said(response))
    action = case.actions.get()
    assert set(action.participants.values_list("username", flat=True)) == {OFFICIAL, "xz1_cungan"}
    assert action.departments == ["police", "village_committee"]
    body = text(response)
    assert "公安" in body and "村委会" in body and "村民小组长" in body


def test_step_return_and_team_forms_go_through_their_services(world, child):
    case = working(world, child)
    response = post(
        world.client(OFFICIAL), case, "step", {"step": 2, "step_deadline": days(7)}, follow=True
    )
    assert any("已推进到“责令改正”" in m and f"{days(7):%Y-%m-%d}" in m for m in said(response))
    assert fresh(case).step == Step.ORDER

    page = world.client(OFFICIAL).get(f"/returns/{case.pk}/return/")
    assert "建议原年级：一年级" in text(page)
    klass = head_class(world)
    response = post(
        world.client(OFFICIAL),
        case,
        "return",
        {
            "placement": "regular",
            "school": klass.school.code,
            "klass": klass.pk,
            "returned_on": TODAY(),
        },
        follow=True,
    )
    assert any("已登记复学（随班就读" in m for m in said(response))
    case = fresh(case)
    assert case.state == CaseState.RETURNED and case.return_class == klass

    team = post(
        world.client(OFFICIAL),
        case,
        "team",
        {"members": [world.user("xz1_cungan").pk]},
        follow=True,
    )
    assert any("包保小组现有1人" in m for m in said(team))
    assert list(case.members.values_list("duty", flat=True)) == [Duty.VILLAGE_CADRE]


def test_defer_page_shows_the_grounds_and_defers_when_the_rule_allows(world, child):
    case = working(world, child)
    page = world.client(OFFICIAL).get(f"/returns/{case.pk}/defer/")
    assert "目前不满足延缓入学或休学的条件" in text(page) and "已0次" in text(page)
    response = post(
        world.client(OFFICIAL), case, "defer", {"court_ruling": "on", "reason": "监护人已履行义务"}
    )
    assert response.status_code == 302
    assert fresh(case).state == CaseState.DEFERRED


# -- attachments --------------------------------------------------------------------------------


def test_attachment_downloads_with_its_type_in_the_area_and_404_outside(world, child):
    case = working(world, child)
    pdf = SimpleUploadedFile("n.pdf", b"%PDF-1.4\n%EOF\n", content_type="application/pdf")
    photo = SimpleUploadedFile("v.jpg", jpeg(), content_type="image/jpeg")
    visit(world, case, attachments=[pdf, photo])
    for item in CaseAttachment.objects.filter(action__case=case):
        url = f"/returns/attachments/{item.pk}/"
        response = world.client("xz1_xx1_guanli").get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == item.content_type
        body = b"".join(response.streaming_content)
        assert body[:4] in (b"%PDF", b"\xff\xd8\xff\xe0"[:4]) or body.startswith(b"\xff\xd8")
        missing = world.client("c2_xian_staff").get(url)
        assert missing.status_code == 404 and "未找到该页面或记录" in text(missing)
        assert world.client("xz2_ganbu").get(url).status_code == 404


# -- documents ---------------------------------------------------------------------------------


def test_documents_section_lists_prints_and_offers_the_kinds_the_case_allows(world, child):
    """Rule 7 on the case page: the worker gets one button per kind the state allows (no
    责令限期改正通知书 before 责令改正); a print is listed for every reader; the school, which
    only reads, gets no buttons."""
    case = working(world, child)
    client = world.client(OFFICIAL)
    page = client.get(f"/returns/{case.pk}/")
    offered = [kind.key for kind in page.context["printable"]]
    assert offered == ["survey", "return_notice", "action_record"]
    assert "尚未生成文书" in text(page)
    response = client.post(f"/returns/{case.pk}/documents/survey/", follow=True)
    assert any("已生成辍学学生基本情况调查表" in m for m in said(response))
    document = case.documents.get()
    school = world.client("xz1_xx1_guanli").get(f"/returns/{case.pk}/")
    assert school.context["printable"] == []
    assert f"/returns/documents/{document.pk}/" in text(school)
    assert "生成辍学学生基本情况调查表" not in text(school)
