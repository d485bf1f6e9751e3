from django.db import models


class RegionLevel(models.IntegerChoices):
    PROVINCE = 1, "省"
    CITY = 2, "市"
    COUNTY = 3, "县"
    TOWNSHIP = 4, "乡镇"
    VILLAGE = 5, "村"


# Administrative division codes (GB/T 2260 plus the statistics bureau's 12-digit extension):
# provinces, cities and counties have 6 digits, townships 9 and villages 12. The prefix is the
# part every descendant's code starts with.
CODE_LENGTH = {
    RegionLevel.PROVINCE: 6,
    RegionLevel.CITY: 6,
    RegionLevel.COUNTY: 6,
    RegionLevel.TOWNSHIP: 9,
    RegionLevel.VILLAGE: 12,
}
PREFIX_LENGTH = {
    RegionLevel.PROVINCE: 2,
    RegionLevel.CITY: 4,
    RegionLevel.COUNTY: 6,
    RegionLevel.TOWNSHIP: 9,
    RegionLevel.VILLAGE: 12,
}


class SchoolKind(models.TextChoices):
    PRIMARY = "primary", "小学"
    JUNIOR = "junior", "初中"
    NINE_YEAR = "nine_year", "九年一贯制学校"
    TEACHING_POINT = "teaching_point", "教学点"
    SPECIAL = "special", "特殊教育学校"


class Role(models.TextChoices):
    CLASS_TEACHER = "class_teacher", "班主任"
    SCHOOL_STAFF = "school_staff", "学校管理员"
    PRINCIPAL = "principal", "校长"
    TOWNSHIP_OFFICIAL = "township_official", "乡镇干部"
    VILLAGE_CADRE = "village_cadre", "驻村干部"
    COUNTY_STAFF = "county_staff", "县教体局工作人员"
    COUNTY_ADMIN = "county_admin", "县级管理员"
    CITY_SUPERVISOR = "city_supervisor", "市级督导"
    PROVINCE_SUPERVISOR = "province_supervisor", "省级督导"
    API_CLIENT = "api_client", "接口账号"


SCHOOL_ROLES = frozenset({Role.CLASS_TEACHER, Role.SCHOOL_STAFF, Role.PRINCIPAL})

# The region level each region-bound role's account is attached to.
ROLE_REGION_LEVEL = {
    Role.TOWNSHIP_OFFICIAL: RegionLevel.TOWNSHIP,
    Role.VILLAGE_CADRE: RegionLevel.VILLAGE,
    Role.COUNTY_STAFF: RegionLevel.COUNTY,
    Role.COUNTY_ADMIN: RegionLevel.COUNTY,
    Role.CITY_SUPERVISOR: RegionLevel.CITY,
    Role.PROVINCE_SUPERVISOR: RegionLevel.PROVINCE,
}

# Supervisors above the county read; they never change records (DOMAIN.md §2).
READ_ONLY_ROLES = frozenset({Role.CITY_SUPERVISOR, Role.PROVINCE_SUPERVISOR})


class Capability(models.TextChoices):
    MANAGE_ORG = "manage_org", "管理组织机构"
    MANAGE_ACCOUNTS = "manage_accounts", "管理账号"
    VIEW_AUDIT = "view_audit", "查看审计日志"
    MANAGE_STUDENTS = "manage_students", "管理学生学籍"
    REVEAL_IDENTITY = "reveal_identity", "查看完整身份证号"
    MANAGE_CALENDAR = "manage_calendar", "管理校历"
    TAKE_ATTENDANCE = "take_attendance", "提交考勤"
    LATE_ATTENDANCE = "late_attendance", "截止后修改考勤"


_SCHOOL_RECORDS = frozenset({Capability.MANAGE_STUDENTS, Capability.REVEAL_IDENTITY})
# The county keeps the default school calendar; a school keeps its own overrides.
_CALENDAR = frozenset({Capability.MANAGE_CALENDAR})

# The class teacher takes the roll until the county's cut-off; later changes need the
# principal (DOMAIN.md §4). School staff and sync clients may submit on a class's behalf.
_ROLL = frozenset({Capability.TAKE_ATTENDANCE})

ROLE_CAPABILITIES = {
    Role.CLASS_TEACHER: _ROLL,
    Role.PRINCIPAL: _SCHOOL_RECORDS | _CALENDAR | _ROLL | {Capability.LATE_ATTENDANCE},
    Role.SCHOOL_STAFF: _SCHOOL_RECORDS | _CALENDAR | _ROLL,
    Role.COUNTY_STAFF: _SCHOOL_RECORDS | _CALENDAR,
    Role.COUNTY_ADMIN: _SCHOOL_RECORDS
    | _CALENDAR
    | {Capability.MANAGE_ORG, Capability.MANAGE_ACCOUNTS, Capability.VIEW_AUDIT},
    # Sync clients write students through the API; they never see full ID numbers.
    Role.API_CLIENT: frozenset({Capability.MANAGE_STUDENTS}) | _ROLL,
}

# Roles a county administrator may hand out: everything at or below the county.
COUNTY_GRANTABLE_ROLES = frozenset(Role) - READ_ONLY_ROLES


class AuditAction(models.TextChoices):
    CREATE = "create", "新增"
    UPDATE = "update", "修改"
    DELETE = "delete", "删除"
    LOGIN = "login", "登录"
    LOGIN_FAILED = "login_failed", "登录失败"
    LOGOUT = "logout", "退出登录"
    TOKEN_ISSUED = "token_issued", "签发接口令牌"
    TOKEN_REVOKED = "token_revoked", "吊销接口令牌"
    EXPORT = "export", "导出"
    REVEAL = "reveal", "查看完整证件号"
    VIEW = "view", "查看记录"
    TWO_FACTOR_ENROLLED = "2fa_enrolled", "启用两步验证"
    TWO_FACTOR_REMOVED = "2fa_removed", "停用两步验证"


class JobKind(models.TextChoices):
    ACCOUNT_EXPORT = "account_export", "导出账号名单"
    ROSTER_IMPORT = "roster_import", "导入学生花名册"
    ROSTER_EXPORT = "roster_export", "导出学生花名册"
    CONSISTENCY_CHECK = "consistency_check", "人账相符核查"
    RETURN_DOCUMENTS = "return_documents", "批量生成劝返文书"
    ATTENDANCE_IMPORT = "attendance_import", "导入考勤表"
    COMPARISON_UPLOAD = "comparison_upload", "上传比对名单"
    REPORT_WORKBOOK = "report_workbook", "导出县级月报表"
    REPORT_VERSION = "report_version", "导出学校月报表"
    LEDGER_EXPORT = "ledger_export", "导出控辍保学台账"
    RETURN_CASE_EXPORT = "return_case_export", "导出劝返案件"
    MISMATCH_EXPORT = "mismatch_export", "导出比对不一致名单"
    INDICATOR_EXPORT = "indicator_export", "导出指标表"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "排队中"
    RUNNING = "running", "进行中"
    DONE = "done", "已完成"
    FAILED = "failed", "失败"


class NotificationKind(models.TextChoices):
    SUSPECTED_DROPOUT = "suspected_dropout", "疑似辍学预警"
    NO_SHOW = "no_show", "开学未报到"
    LEDGER = "ledger", "台账提醒"
    CLOSURE_PROPOSED = "closure_proposed", "销号待审核"
    CLOSURE_REJECTED = "closure_rejected", "销号被退回"
    RETURN_CASE = "return_case", "劝返指令"
    RETURN_REMINDER = "return_reminder", "劝返提醒"
    FOLLOW_UP_ALERT = "follow_up_alert", "复学跟踪预警"
    REPORT_REMINDER = "report_reminder", "报表与工作提醒"
    GENERAL = "general", "通知"
