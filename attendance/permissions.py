"""Attendance's permission actions (accounts.permissions): who sets a county's attendance
rules, who records a measure for a watched child and who recomputes a county's watch list. Taking the roll and changing it after the cut-off are the accounts app's capabilities
TAKE_ATTENDANCE and LATE_ATTENDANCE."""

from accounts import permissions
from accounts.choices import Capability, RegionLevel, Role

SET_RULES = "attendance.rules"
RECORD_MEASURE = "attendance.watch_measure"
RECOMPUTE_WATCH = "attendance.watch_recompute"
IMPORT = "attendance.import"


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


# The school and the township work with the child (结对帮扶, 家访); the county supervises.
permissions.register(
    RECORD_MEASURE,
    permissions.by_roles(
        {
            Role.PRINCIPAL,
            Role.SCHOOL_STAFF,
            Role.CLASS_TEACHER,
            Role.TOWNSHIP_OFFICIAL,
            Role.VILLAGE_CADRE,
        },
        "只有学校和乡镇可以登记帮扶措施。",
    ),
)
# The county's calendar keepers, who set the signals' thresholds, recompute the list at once.
permissions.register(RECOMPUTE_WATCH, _set_rules)
# A school's principal and its staff upload the roll kept in Excel (考勤表导入); it goes
# through the roll's own path, so the cut-off still applies to staff.
permissions.register(
    IMPORT,
    permissions.by_roles(
        {Role.PRINCIPAL, Role.SCHOOL_STAFF}, "只有校长和学校管理员可以导入考勤表。"
    ),
)
