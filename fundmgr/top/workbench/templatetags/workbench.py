"""The start page's parts, for the admin index template (fundmgr/templates/admin/index.html):
`{% workbench_queues %}` (my queues, or a regulator's city pages) and `{% workbench_recent %}`
(my recent steps). Template tags, so the admin site (accounts, on the ground floor) renders
what the business apps above it know without importing them."""

from __future__ import annotations

from django import template

from .. import page

register = template.Library()


@register.inclusion_tag("admin/workbench/queues.html", takes_context=True)
def workbench_queues(context) -> dict:
    return page.workbench(context["request"].user)


@register.inclusion_tag("admin/workbench/recent.html", takes_context=True)
def workbench_recent(context) -> dict:
    user = context["request"].user
    return {"shown": page.takes_steps(user), "recent": page.recent(user) if page.takes_steps(user) else []}
