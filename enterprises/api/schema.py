"""OpenAPI: the enterprise fields a caller may not read are left out of its answers
(`rules.fields_visible`: a bank reading another bank's applicant sees PUBLIC_FIELDS only), and
`eligibility` is for staff only; so those fields are optional in the documented answers, not
required — the document says what every caller can rely on."""

from __future__ import annotations

from .. import rules

_COMPONENTS = ("Enterprise", "EnterpriseDetail", "EnterpriseStaffDetail")
_STAFF_ONLY = {"EnterpriseStaffDetail": ("eligibility",)}


def optional_enterprise_fields_hook(result, generator, request, public):
    schemas = result.get("components", {}).get("schemas", {})
    always = set(rules.PUBLIC_FIELDS)
    for name in _COMPONENTS:
        schema = schemas.get(name)
        if not schema or "required" not in schema:
            continue
        hidden = set(_STAFF_ONLY.get(name, ()))
        schema["required"] = [f for f in schema["required"] if f in always and f not in hidden]
    return result
