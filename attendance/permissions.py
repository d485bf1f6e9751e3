"""Attendance's permission actions (accounts.permissions): who sets a county's attendance
rules. Taking the roll and changing it after the cut-off are the accounts app's capabilities
TAKE_ATTENDANCE and LATE_ATTENDANCE."""

from accounts import permissions
from accounts.choices import Capability, RegionLevel

SET_RULES = "attendance.rules"


def _set_rules(user, obj=None) -> str | None:
    """County calendar keepers (county staff and administrators) set their county's rules."""
    county_account = (
        not user.school_id
        and user.region_id is not None
        and user.region.level == RegionLevel.COUNTY
    )
    if permissions.can(user, Capability.MANAGE_CALENDAR) and county_account:
        return None
    return "只有县教体局可以设置考勤规则。"


permissions.register(SET_RULES, _set_rules)
