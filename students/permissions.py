"""The students app's permission actions (accounts.permissions): who edits which calendar."""

from accounts import jurisdiction, permissions
from accounts.choices import Capability
from accounts.models import School

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
