"""The students app's permission actions (accounts.permissions): who edits which calendar,
who sees guardians' phone numbers."""

from accounts import jurisdiction, permissions
from accounts.choices import Capability, Role
from accounts.models import School

from .models import Student

CALENDAR_EDIT = "calendar.edit"
_NOT_YOURS = "县级账号只能修改本县默认校历，学校账号只能修改本校校历。"


def _calendar_edit(user, owner=None) -> str | None:
    """County accounts edit their county's default; school accounts edit their school's
    override (a 中心校 also its attached schools'). Nobody edits the other kind."""
    reason = permissions.refusal(user, Capability.MANAGE_CALENDAR)
    if reason is not None or owner is None:
        return reason
    if isinstance(owner, School):
        mine = bool(user.school_id) and jurisdiction.contains(user, owner)
    else:
        mine = not user.school_id and user.region_id == owner.pk
    return None if mine else _NOT_YOURS


permissions.register(CALENDAR_EDIT, _calendar_edit)


# Guardians' phone numbers (DOMAIN.md §10: shown only to those who need them, masked
# elsewhere). The child's school calls the family (the class teacher for their own class,
# through jurisdiction), and so does the county that keeps the ledger; the township and the
# village cadre call them about a case — from a record of the case (a ledger entry, which
# the ledger passes), not from the roster. Supervisors above the county and sync clients
# never do.
GUARDIAN_PHONES = "students.guardian_phones"
_ROSTER_CALLERS = frozenset(
    {Role.CLASS_TEACHER, Role.SCHOOL_STAFF, Role.PRINCIPAL, Role.COUNTY_STAFF, Role.COUNTY_ADMIN}
)
_CASE_CALLERS = _ROSTER_CALLERS | {Role.TOWNSHIP_OFFICIAL, Role.VILLAGE_CADRE}


def _guardian_phones(user, record=None) -> str | None:
    """``record``: the student, or a higher app's record about the child (a case)."""
    if user.role in _ROSTER_CALLERS:
        return None
    if user.role in _CASE_CALLERS:
        if isinstance(record, Student):
            return "乡镇和驻村干部请在该学生的台账记录上查看监护人电话。"
        return None
    return "当前账号无权查看监护人电话。"


permissions.register(GUARDIAN_PHONES, _guardian_phones)


# Merging duplicate records (issue 13 rule 4, students.merge): a school's staff within their
# school (a 中心校 also its attached schools), the county across the schools of the county.
# Sync clients and class teachers never merge; the township is not the students' keeper.
MERGE = "students.merge"
_MERGERS = frozenset({Role.SCHOOL_STAFF, Role.PRINCIPAL, Role.COUNTY_STAFF, Role.COUNTY_ADMIN})


def _merge(user, record=None) -> str | None:
    """``record``: a student of the user's area, whose school must be one of the user's."""
    if user.role not in _MERGERS:
        return "只有学校管理员、校长和县级账号可以处理疑似重复的学生记录。"
    if (
        record is not None
        and not School.objects.for_user(user).filter(pk=record.school_id).exists()
    ):
        return "该学生的学校不在您的管辖范围内，不能由您合并或确认。"
    return None


permissions.register(MERGE, _merge)
