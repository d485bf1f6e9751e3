from . import notifications, services
from .choices import Capability


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav": {
            "manage_org": services.has_capability(user, Capability.MANAGE_ORG),
            "manage_accounts": services.has_capability(user, Capability.MANAGE_ACCOUNTS),
            "view_audit": services.has_capability(user, Capability.VIEW_AUDIT),
            "unread_notifications": notifications.unread_count(user),
        }
    }
