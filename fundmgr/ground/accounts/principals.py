"""Who is acting: the one object every selector and service takes to decide scope.

A `Principal` is built from the authenticated user. Partner systems that call with an
institution API key act as that institution's system user, so people and systems are
scoped by the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from django.db.models import Q, QuerySet

from fundmgr.ground.lib.errors import CommonError, Forbidden

from .models import STAFF_ROLES, Organization, Role, User


@dataclass(frozen=True)
class Principal:
    user: User | None
    role: str | None
    institution_id: int | None = None
    fund_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def is_anonymous(self) -> bool:
        return self.user is None

    @property
    def is_staff_member(self) -> bool:
        """Fund-manager staff (any staff role): sees every fund."""
        return self.role in STAFF_ROLES

    @property
    def is_regulator(self) -> bool:
        return self.role == Role.REGULATOR

    @property
    def is_institution(self) -> bool:
        return self.role == Role.INSTITUTION and self.institution_id is not None

    def has_role(self, *roles: str) -> bool:
        return self.role == Role.ADMIN or self.role in roles

    @cached_property
    def label(self) -> str:
        return self.user.get_username() if self.user else "anonymous"


ANONYMOUS = Principal(user=None, role=None)


def principal_for(user: User | None) -> Principal:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return ANONYMOUS
    institution_id = None
    org: Organization | None = user.organization
    if user.role == Role.INSTITUTION and org is not None and org.kind == Organization.Kind.INSTITUTION:
        institution_id = org.institution_id
    fund_ids: frozenset[int] = frozenset()
    if user.role == Role.REGULATOR:
        fund_ids = frozenset(user.funds.values_list("id", flat=True))
    return Principal(user=user, role=user.role, institution_id=institution_id, fund_ids=fund_ids)


def principal_from_request(request) -> Principal:
    cached = getattr(request, "_fundmgr_principal", None)
    if cached is not None:
        return cached
    principal = principal_for(getattr(request, "user", None))
    try:
        request._fundmgr_principal = principal
    except AttributeError:  # pragma: no cover - exotic request objects
        pass
    return principal


def scoped(qs: QuerySet, principal: Principal, *, regulator: Q, institution: Q) -> QuerySet:
    """The one scope rule, for every kind of record: fund-manager staff see all of `qs`; a
    regulator the rows `regulator` selects (its own funds' rows, via `principal.fund_ids`);
    a partner institution the rows `institution` selects (its own, via
    `principal.institution_id`); anyone else nothing."""
    if principal.is_staff_member:
        return qs
    if principal.is_regulator:
        return qs.filter(regulator)
    if principal.is_institution:
        return qs.filter(institution)
    return qs.none()


def by_fund_and_institution(
    qs: QuerySet, principal: Principal, *, fund: str = "fund_id", institution: str = "institution_id"
) -> QuerySet:
    """`scoped` for records that belong to one fund and one institution (filings, claims,
    agreements): a regulator sees its funds' rows, an institution its own."""
    return scoped(
        qs,
        principal,
        regulator=Q(**{f"{fund}__in": principal.fund_ids}),
        institution=Q(**{institution: principal.institution_id}),
    )


def require_institution(principal: Principal, message: str) -> None:
    """A step only a partner institution takes (through the API): 403 institution_only for
    anyone else, before anything is looked up."""
    if not principal.is_institution:
        raise Forbidden(CommonError.INSTITUTION_ONLY, message)
