"""`Idempotency-Key` with the caller's key space decided by who is acting."""

from __future__ import annotations

from rest_framework.request import Request

from fundmgr.ground.lib import idempotency

from ..principals import principal_from_request


class IdempotentMixin(idempotency.IdempotentMixin):
    """Partner systems share one key space per institution (whichever of its API keys calls);
    people have their own."""

    def idempotency_scope(self, request: Request) -> str | None:
        principal = principal_from_request(request)
        if principal.is_institution:
            return f"inst:{principal.institution_id}"
        if principal.user is not None:
            return f"user:{principal.user.pk}"
        return None
