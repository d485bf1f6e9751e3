"""``{% if user|can:"manage_students" %}``: templates ask accounts.permissions.can, like
pages, the API and the services (a builtin of the template engine, no ``load`` needed)."""

from django import template

from .. import permissions

register = template.Library()


@register.filter
def can(user, action: str) -> bool:
    return permissions.can(user, action)
