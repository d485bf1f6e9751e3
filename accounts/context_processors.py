from . import notifications


def navigation(request):
    """The unread count in the navigation bar; what the bar offers is asked of
    accounts.permissions through the ``can`` template filter."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"nav": {"unread_notifications": notifications.unread_count(user)}}
