"""The reports' permission actions (accounts.permissions) for the 月报表 (DOMAIN.md §8, 002):
the school's staff and principal fill the form in, only the principal signs it (electronic
confirmation of "主要负责同志签字盖章"); the county follows who has signed and exports the
county workbook; the city and province above look on. Whether the school is the user's own
(or one attached to their 中心校) is jurisdiction's question, asked before."""

from accounts import permissions
from accounts.choices import Role
from ledger.transitions import COUNTY, SCHOOL

MONTHLY_FILL = "reports.monthly.fill"
MONTHLY_SIGN = "reports.monthly.sign"
MONTHLY_COUNTY = "reports.monthly.county"
MONTHLY_WORKBOOK = "reports.monthly.workbook"

ABOVE_COUNTY = frozenset({Role.CITY_SUPERVISOR, Role.PROVINCE_SUPERVISOR})

permissions.register(
    MONTHLY_FILL,
    permissions.by_roles(SCHOOL, "月报表由学校管理员或校长填报。"),
)
permissions.register(
    MONTHLY_SIGN,
    permissions.by_roles(
        {Role.PRINCIPAL}, "月报表只能由校长（中心校或学校主要负责人）签字确认，请联系校长签发。"
    ),
)
permissions.register(
    MONTHLY_COUNTY,
    permissions.by_roles(COUNTY | ABOVE_COUNTY, "月报表报送情况由县教体局及上级查看。"),
)
permissions.register(
    MONTHLY_WORKBOOK,
    permissions.by_roles(COUNTY, "县级月报表汇总工作簿由县教体局的账号导出。"),
)
