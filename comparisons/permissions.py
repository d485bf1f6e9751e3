"""The comparisons' permission actions (accounts.permissions): county staff — and the
county's API account, for the other departments' systems that send their lists — upload the
lists and start runs; whoever a mismatch is assigned to in their area — the county, the township,
the school — records what was done about it."""

from accounts import permissions
from accounts.choices import Role
from ledger.transitions import COUNTY, SCHOOL, TOWNSHIP

UPLOAD = "comparisons.upload"
RUN = "comparisons.run"
DISPOSE = "comparisons.dispose"

# A school's API account is refused by sources.upload_county: lists are a county's.
_LISTS = COUNTY | {Role.API_CLIENT}
permissions.register(UPLOAD, permissions.by_roles(_LISTS, "比对名单由县教体局的账号上传。"))
permissions.register(RUN, permissions.by_roles(_LISTS, "比对由县教体局的账号发起。"))
permissions.register(
    DISPOSE,
    permissions.by_roles(
        COUNTY | TOWNSHIP | SCHOOL, "当前账号不能处理比对结果，请由学校、乡镇或县教体局处理。"
    ),
)
