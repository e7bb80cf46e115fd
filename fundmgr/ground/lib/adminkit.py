"""Small admin helpers shared by every app."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Count, Q
from django.http import HttpResponseRedirect
from django.utils.translation import gettext_lazy as _

from .errors import AppError


class ServiceErrorsMixin:
    """Admin pages that write through a service.

    The stock change form wraps the whole view in `transaction.atomic()`; our services open
    their own durable transaction (one business command, committed or not at all), which
    cannot nest inside another. So the form view runs without the outer block, and a
    service's refusal is shown as an error message on the same page instead of a 500.
    Nothing was written when a service refuses.
    """

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return self._changeform_view(request, object_id, form_url, extra_context)
        except AppError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(request.get_full_path())


class TransitionButtonsMixin:
    """django-fsm-2's admin buttons, but every click runs the app's service.

    The buttons shown come from the transitions' own declarations (state, role, four-eyes),
    each opens a form with a comment box, and the admin class says which service runs the
    transition in `run_transition(request, obj, name, comment, data)`.
    """

    fsm_transition_success_msg = "操作“{transition_name}”已完成。"
    fsm_transition_not_allowed_msg = "当前不能执行操作“{transition_name}”。"

    @staticmethod
    def get_fsm_block_label(fsm_field_name: str) -> str:
        return "可执行的操作"

    def run_transition(
        self, request, obj, name: str, comment: str, data: dict
    ):  # pragma: no cover - abstract
        raise NotImplementedError

    def _apply_fsm_transition(self, *, obj, transition_name, request, kwargs=None) -> bool:
        data = dict(kwargs or {})
        comment = data.pop("comment", "") or ""
        label = self.get_fsm_label(self._get_fsm_transition_by_name(obj=obj, transition_name=transition_name))
        try:
            self.run_transition(request, obj, transition_name, comment, data)
        except AppError as exc:
            messages.error(request, f"{label}：{exc.message}")
            return False
        messages.success(request, self.fsm_transition_success_msg.format(transition_name=label))
        return True


class CountedQueueFilter(admin.SimpleListFilter):
    """Work queues (待审核, 待复核 …), each labelled with how many records are in it now, counted
    in one query. Subclasses give `queues()`: {key: (label, Q condition)}."""

    title = _("工作队列")
    parameter_name = "queue"

    def queues(self) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError

    def lookups(self, request, model_admin):
        queues = self.queues()
        counts = model_admin.get_queryset(request).aggregate(
            **{key: Count("pk", filter=condition) for key, (_label, condition) in queues.items()}
        )
        return [(key, f"{label}（{counts[key]}）") for key, (label, _c) in queues.items()]

    def queryset(self, request, queryset):
        queue = self.queues().get(self.value())
        return queryset.filter(queue[1]) if queue else queryset


class ReadOnlyAdminMixin:
    """Records written only by services or scheduled jobs (logs, outboxes, stored reports,
    ledger lines): staff read them; nobody adds, edits or deletes them here."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ExactFirstSearchMixin:
    """Admin search that answers a whole key (a reference, a USCC, a contract number) from the
    key's own index, and only otherwise falls back to the substring search of
    `search_fields` (served on PostgreSQL by trigram indexes on the searched names)."""

    exact_search_fields: tuple[str, ...] = ()

    def get_search_results(self, request, queryset, search_term):
        term = (search_term or "").strip()
        if term and self.exact_search_fields and " " not in term:
            match = Q()
            for field in self.exact_search_fields:
                match |= Q(**{field: term}) | Q(**{field: term.upper()})
            exact = queryset.filter(match)
            if exact.exists():
                return exact, False
        return super().get_search_results(request, queryset, search_term)
