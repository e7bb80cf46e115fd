"""`{% unread_notifications as unread %}`: the signed-in user's unread count for the admin
header (fundmgr/templates/admin/base_site.html).

A template tag rather than a context processor: only admin pages that draw the header pay for
it, and the accounts layer below need not know notifications exist. Counted once per request
(kept on the request), however many times a page asks.
"""

from __future__ import annotations

from django import template

from ..selectors import unread_count

register = template.Library()

_CACHE_ATTR = "_fundmgr_unread_notifications"


@register.simple_tag(takes_context=True)
def unread_notifications(context) -> int:
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    if request is None:
        return unread_count(user)
    cached = getattr(request, _CACHE_ATTR, None)
    if cached is None or cached[0] != getattr(user, "pk", None):
        cached = (getattr(user, "pk", None), unread_count(user))
        setattr(request, _CACHE_ATTR, cached)
    return cached[1]
