"""Small admin helpers shared by every app."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import xlsxwriter
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import (
    flatten_fieldsets,
    get_fields_from_path,
    label_for_field,
    lookup_spawns_duplicates,
    quote,
    unquote,
)
from django.contrib.admin.views.main import ERROR_FLAG
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db import models
from django.db.models import Count, Exists, Min, OuterRef, Q
from django.http import Http404, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, strip_tags
from django.utils.http import content_disposition_header
from django.utils.text import smart_split, unescape_string_literal
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_fsm import can_proceed, has_transition_perm
from django_fsm.admin import FSMTransitionContext

from . import clock
from .errors import AppError
from .money import format_wan, format_yuan
from .regions import region_name


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


@dataclass(frozen=True)
class Figure:
    """A key figure a transition form shows before the user confirms: what the step is about
    (the amount, how it was computed, what is still missing). `value` is text or safe HTML;
    `note` says where it comes from or what the step does with it; `warning` marks a figure
    that will make the step refuse; `wide` lets a value (a table) take the note's room too."""

    label: str
    value: Any
    note: str = ""
    warning: bool = False
    wide: bool = False


class TransitionButtonsMixin:
    """django-fsm-2's admin buttons, but every click runs the app's service.

    The buttons shown come from the transitions' own declarations (state, role, four-eyes).
    Each opens a form (the step's declared form, a comment box by default) that says what the
    step is about before the user confirms: the record's key figures (`transition_figures`),
    the comment box marked required where the service requires a reason
    (`comment_required_steps`, from the app's rules), the step's name on the button. A step
    the user may not take is refused before the form, saying why (`transition_refusal`). The
    admin class says which service runs the transition in
    `run_transition(request, obj, name, comment, data)`.
    """

    fsm_transition_success_msg = _("操作“{transition_name}”已完成。")
    fsm_transition_not_allowed_msg = _("当前不能执行操作“{transition_name}”。")
    comment_required_steps: Collection[str] = ()

    @staticmethod
    def get_fsm_block_label(fsm_field_name: str) -> str:
        return _("可执行的操作")

    def run_transition(
        self, request, obj, name: str, comment: str, data: dict
    ):  # pragma: no cover - abstract
        raise NotImplementedError

    def transition_figures(self, request, obj, name: str) -> list[Figure]:
        """The record's key figures for the step `name`'s form (none by default)."""
        return []

    def transition_refusal(self, request, obj, name: str) -> str | None:
        """Why the user may not take the step now (None: they may). This default only knows
        that django-fsm refuses; admins of declared lifecycles explain the rule
        (accounts.admin.WorkflowTransitionsMixin)."""
        bound = getattr(obj, name)
        if can_proceed(bound) and has_transition_perm(bound, request.user):
            return None
        label = self.get_fsm_label(self._get_fsm_transition_by_name(obj=obj, transition_name=name))
        return self.fsm_transition_not_allowed_msg.format(transition_name=label)

    def transition_requires_comment(self, obj, name: str) -> bool:
        return name in self.comment_required_steps

    def get_transition_form(self, request, obj, transition):
        """The step's form, bound on POST, its comment box required exactly where the service
        requires a reason (and saying so before anything is submitted)."""
        form_class = self.get_fsm_transition_form(transition)
        if form_class is None:
            return None
        data = request.POST if request.method == "POST" else None
        form = (
            form_class(data=data, instance=obj)
            if issubclass(form_class, forms.ModelForm)
            else form_class(data=data)
        )
        form.required_css_class = "required"  # the admin's style: required labels in bold
        comment = form.fields.get("comment")
        if comment is not None:
            if self.transition_requires_comment(obj, transition.name):
                comment.required = True
                comment.help_text = comment.help_text or _("必填：写明理由，将记入状态变更记录并告知相关方。")
            elif not comment.required:
                comment.help_text = comment.help_text or _("选填：将记入状态变更记录。")
        return form

    def fsm_transition_view(self, request, object_id, transition_name, **kwargs):
        """The step's form (django-fsm-2's view, rebuilt): refused with the reason before the
        form when the user may not take the step; the key figures above the form; the service
        runs on a valid POST, and its refusal is shown on the same form."""
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        try:
            transition = self._get_fsm_transition_by_name(obj=obj, transition_name=transition_name)
        except (AttributeError, TypeError, ValueError) as exc:
            raise Http404 from exc
        label = self.get_fsm_label(transition)
        change_url = reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[quote(obj.pk)]
        )
        if not self.is_fsm_transition_visible(transition):
            refusal = _("“%(step)s”不在管理后台办理。") % {"step": label}
        else:
            refusal = self.transition_refusal(request, obj, transition_name)
        if refusal:
            messages.error(request, refusal)
            return HttpResponseRedirect(change_url)
        form = self.get_transition_form(request, obj, transition)
        if form is None:
            return HttpResponseBadRequest(_("“%(step)s”没有可填写的表单。") % {"step": label})
        if request.method == "POST" and form.is_valid():
            applied = self._apply_fsm_transition(
                obj=obj, transition_name=transition_name, request=request, kwargs=form.cleaned_data
            )
            if applied:
                return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": obj,
            "title": label,
            "subtitle": str(obj),
            "transition": FSMTransitionContext(
                name=transition_name, label=label, help_text=self.get_help_text(transition)
            ),
            "transition_form": form,
            "figures": self.transition_figures(request, obj, transition_name),
            "change_url": change_url,
        }
        return TemplateResponse(request, self.fsm_transition_form_template, context)

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
        # Only the rows in some queue are read (the same counts: each queue's condition implies
        # the union), so an index on the queues' states answers instead of a read of every row.
        in_any = Q()
        for _label, condition in queues.values():
            in_any |= condition
        counts = (
            model_admin.get_queryset(request)
            .filter(in_any)
            .aggregate(**{key: Count("pk", filter=condition) for key, (_label, condition) in queues.items()})
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


def _related_split(model, path: str) -> tuple[str, Any, str] | None:
    """`enterprise__name` on a filing -> ("enterprise", Enterprise, "name"): the relation to
    follow, its model and the field there; None for the model's own field, or for a path
    through a reverse or many-to-many relation (the framework's own search then)."""
    fields = get_fields_from_path(model, path)
    if len(fields) == 1 or lookup_spawns_duplicates(model._meta, path):
        return None
    relation, _sep, field = path.rpartition("__")
    return relation, fields[-2].related_model, field


class ExactFirstSearchMixin:
    """Admin search that answers a whole key (a reference, a USCC, a contract number) from the
    key's own index, and only otherwise falls back to a substring search of `search_fields`.

    Both read each table by its own index: a related record's key or name is looked up in its
    own table first (enterprises by the trigram index on their names) and the rows are then
    picked by their foreign key. Django's own search ORs the conditions of every table over a
    join, which PostgreSQL can only answer by reading every row (0.5–1 s at 100,000 loans)."""

    exact_search_fields: tuple[str, ...] = ()
    # Related records matched by a search are handed to the rows' query as keys (so each
    # condition is an index scan) up to this many; beyond it, as a subquery.
    search_keys_limit = 1000

    def _condition(self, path: str, lookup: str, value) -> Q:
        split = _related_split(self.model, path)
        if split is None:
            return Q(**{f"{path}__{lookup}": value})
        relation, related, field = split
        matched = (
            related._default_manager.filter(**{f"{field}__{lookup}": value})
            .order_by()
            .values_list("pk", flat=True)
        )
        keys = list(matched[: self.search_keys_limit + 1])
        return Q(**{f"{relation}__in": keys if len(keys) <= self.search_keys_limit else matched})

    def get_search_results(self, request, queryset, search_term):
        term = (search_term or "").strip()
        if term and self.exact_search_fields and " " not in term:
            keys = sorted({term, term.upper()})
            match = Q()
            for field in self.exact_search_fields:
                match |= self._condition(field, "in", keys)
            exact = queryset.filter(match)
            if exact.exists():
                return exact, False
        fields = self.get_search_fields(request)
        if not term or any(f[:1] in "^=@" for f in fields):
            return super().get_search_results(request, queryset, search_term)
        for word in smart_split(term):  # words, or "quoted phrases", as Django's own search
            if word[:1] in "\"'" and word[0] == word[-1]:
                word = unescape_string_literal(word)
            any_field = Q()
            for field in fields:
                any_field |= self._condition(field, "icontains", word)
            queryset = queryset.filter(any_field)
        # A reverse or many-to-many path is searched over its join, which may repeat a row.
        return queryset, any(lookup_spawns_duplicates(self.opts, f) for f in fields)


# --- lists that read well at 1280 px, with exports of what they show ------------------------

# Kinds of exported cells: they decide the XLSX number format and the CSV text.
TEXT, MONEY, INT, DECIMAL, DATE, DATETIME = "text", "money", "int", "decimal", "date", "datetime"
XLSX_FORMATS = {
    MONEY: "#,##0.00",
    INT: "#,##0",
    DECIMAL: "#,##0.00##",
    DATE: "yyyy-mm-dd",
    DATETIME: "yyyy-mm-dd hh:mm",
}
XLSX_WIDTHS = {MONEY: 16, INT: 10, DECIMAL: 10, DATE: 12, DATETIME: 17}
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
EXPORT_FORMATS = ("xlsx", "csv")


@dataclass(frozen=True)
class ExportColumn:
    header: str
    value: Callable[[Any], Any]  # obj -> Decimal | int | date | datetime | str | None
    kind: str = TEXT


def money_display(field: str, label, *, ordering: str | None = None):
    """A money column (`*_yuan` by convention, right-aligned by the list's style sheet):
    1,234,567.80 on the page, the exact Decimal in exports."""

    @admin.display(description=label, ordering=ordering or field)
    def show(self, obj) -> str:
        value = getattr(obj, field)
        return "—" if value is None else format_yuan(value)

    show.export_value = lambda obj: getattr(obj, field)
    show.export_kind = MONEY
    return show


def wan_display(label, export_label, value: Callable[[Any], Any]):
    """An amount shown in 万元 (1,234.57; dashboards and regulators' pages: it reads faster),
    the exact yuan on hover and in exports (headed `export_label`, in 元). `value(obj)` gives
    the amount in yuan."""

    @admin.display(description=label)
    def show(self, obj) -> str:
        amount = value(obj)
        if amount is None:
            return "—"
        return format_html(
            '<span title="{}">{}</span>',
            _("%(amount)s 元") % {"amount": format_yuan(amount)},
            format_wan(amount),
        )

    show.export_value = value
    show.export_kind = MONEY
    show.export_header = export_label
    return show


def date_display(field: str, label, *, ordering: str | None = None):
    """A date column as 2026-12-04 (narrower than 2026年12月4日), a real date in exports."""

    def show(self, obj) -> str:
        value = _follow(obj, field)
        return "—" if value is None else value.isoformat()

    show.export_value = lambda obj: _follow(obj, field)
    show.export_kind = DATE
    return admin.display(description=label, ordering=ordering or field)(show)


def datetime_display(field: str, label, *, ordering: str | None = None):
    """A moment as 2026-12-01 09:30 (Shanghai time; narrower than the locale's long form, the
    same in every language), a real date and time in exports."""

    def show(self, obj) -> str:
        value = _follow(obj, field)
        return "—" if value is None else timezone.localtime(value).strftime("%Y-%m-%d %H:%M")

    show.export_value = lambda obj: _follow(obj, field)
    show.export_kind = DATETIME
    return admin.display(description=label, ordering=ordering or field)(show)


def _follow(obj, path: str):
    for part in path.split("__"):
        if obj is None:
            return None
        obj = getattr(obj, part)
    return obj


def short_name_display(path: str, label, *, short: Callable[[Any], str], ordering: str | None = None):
    """A related record named shortly in a narrow column (肇庆, 广东肇庆农商银行), its full
    name on hover and in exports. `path` leads from the row to the record (`filing__fund`)."""

    @admin.display(description=label, ordering=ordering or path)
    def show(self, obj) -> str:
        target = _follow(obj, path)
        if target is None:
            return "—"
        full, text = str(target), short(target) or str(target)
        return text if text == full else format_html('<span title="{}">{}</span>', full, text)

    show.export_value = lambda obj: "" if (t := _follow(obj, path)) is None else str(t)
    return show


def region_display(field: str, label, *, ordering: str | None = None):
    """A district or city by its name (端州区), not its GB/T 2260 code; the code on hover."""

    @admin.display(description=label, ordering=ordering or field)
    def show(self, obj) -> str:
        code = _follow(obj, field) or ""
        name = region_name(code)
        if not code:
            return "—"
        return name if name == code else format_html('<span title="{}">{}</span>', code, name)

    show.export_value = lambda obj: region_name(_follow(obj, field) or "")
    return show


def short_label_of(obj) -> str:
    """A record's short name where it has one (a fund's 肇庆, an institution's short name)."""
    return getattr(obj, "short_label", None) or getattr(obj, "short_name", None) or str(obj)


class ShortNameFilter(admin.RelatedOnlyFieldListFilter):
    """Filter by a related record (a fund, an institution) named shortly, offering only the
    records the user's rows refer to (a regulator sees its own city's fund only)."""

    def field_choices(self, field, request, model_admin):
        # Each related record asks whether one row refers to it (one index probe each, a few
        # dozen funds or banks) rather than listing the distinct keys of every row.
        rows = model_admin.get_queryset(request).filter(**{self.field_path: OuterRef("pk")})
        ordering = self.field_admin_ordering(field, request, model_admin) or ()
        related = field.related_model._default_manager.filter(Exists(rows)).order_by(*ordering)
        return [(obj.pk, short_label_of(obj)) for obj in related]


class RegionFilter(admin.SimpleListFilter):
    """Filter by district or city, offered by name (端州区), for the codes present in the rows
    the user can see. Subclasses set `field` (a lookup path to a GB/T 2260 code)."""

    field = "region_code"
    title = _("区县")
    parameter_name = "region_code"  # the field's own lookup: old links keep working

    def lookups(self, request, model_admin):
        rows = model_admin.get_queryset(request)
        split = _related_split(model_admin.model, self.field)
        if split is None:
            codes = rows.exclude(**{self.field: ""}).order_by(self.field).values_list(self.field, flat=True)
        else:
            # The code lives on a related record (a borrower's district): one record per code
            # asks whether a row refers to a record with that code (an index probe each, by
            # the related table's index on the code), instead of the distinct codes over a
            # join of every row.
            relation, related, field = split
            records = related._default_manager.order_by()
            one_per_code = (
                records.exclude(**{field: ""}).values(field).annotate(first=Min("pk")).values("first")
            )
            codes = (
                records.filter(pk__in=one_per_code)
                .filter(Exists(rows.filter(**{f"{relation}__{field}": OuterRef(field)})))
                .order_by(field)
                .values_list(field, flat=True)
            )
        return [(code, region_name(code)) for code in codes.distinct()]

    def queryset(self, request, queryset):
        return queryset.filter(**{self.field: self.value()}) if self.value() else queryset


class BusinessDateFilter(admin.DateFieldListFilter):
    """Django's date filter for a business-date field (提交日期(业务日)), with 今天, 过去7天, 本月
    and 今年 counted from the business date, not the wall clock."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        today = clock.today()
        tomorrow = today + dt.timedelta(days=1)
        next_month = (today.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        next_year = today.replace(year=today.year + 1, month=1, day=1)
        since, until = self.lookup_kwarg_since, self.lookup_kwarg_until
        ranges = (
            (today, tomorrow),
            (today - dt.timedelta(days=7), tomorrow),
            (today.replace(day=1), next_month),
            (today.replace(month=1, day=1), next_year),
        )
        relative = tuple(
            (title, {since: start, until: end})
            for (title, _lookup), (start, end) in zip(self.links[1:5], ranges, strict=True)
        )
        self.links = (self.links[0], *relative, *self.links[5:])


def region_filter(field: str, title) -> type[RegionFilter]:
    """A `RegionFilter` on `field` (e.g. `enterprise__region_code`), titled `title`."""
    return type("RegionFilter", (RegionFilter,), {"field": field, "parameter_name": field, "title": title})


def _export_text(value) -> str:
    return html.unescape(strip_tags(str(value)))


def _cell_of_field(field) -> tuple[str, Callable[[Any], Any]]:
    name = field.name
    if field.choices:
        return TEXT, lambda obj: getattr(obj, f"get_{name}_display")()
    if field.is_relation:
        return TEXT, lambda obj: "" if (v := getattr(obj, name)) is None else str(v)
    if isinstance(field, models.DecimalField):
        return (MONEY if field.decimal_places == 2 and field.max_digits >= 12 else DECIMAL), (
            lambda obj: getattr(obj, name)
        )
    if isinstance(field, models.DateTimeField):
        return DATETIME, lambda obj: getattr(obj, name)
    if isinstance(field, models.DateField):
        return DATE, lambda obj: getattr(obj, name)
    if isinstance(field, models.BooleanField):
        return TEXT, lambda obj: {True: gettext("是"), False: gettext("否")}.get(getattr(obj, name), "")
    if isinstance(field, models.IntegerField):
        return INT, lambda obj: getattr(obj, name)
    return TEXT, lambda obj: getattr(obj, name)


class WorkListMixin:
    """A list page that reads like a finished product at 1280 px:

    - work queues (a `CountedQueueFilter`) as tabs above the list, the other filters in a
      collapsible menu beside the search box, the filters in force as removable chips;
    - cells on one line (`list_wrap` names the columns that may wrap, e.g. long names),
      money columns (`*_yuan`) right-aligned;
    - 导出 XLSX / 导出 CSV of the current list (filters, search and order as shown), from the
      list's own columns (`export_fields` to choose others): amounts as numbers with thousands
      separators, dates as dates, codes by their labels.
    """

    change_list_template = "admin/fundmgr/change_list.html"
    list_wrap: tuple[str, ...] = ()
    export_fields: Sequence[str | Callable] | None = None

    # --- the page ---------------------------------------------------------------------------

    def get_urls(self):
        opts = self.model._meta
        return [
            path(
                "export/<str:fmt>/",
                self.admin_site.admin_view(self.export_view),
                name=f"{opts.app_label}_{opts.model_name}_export",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None)
        if not context or "cl" not in context:
            return response  # a redirect (actions, a bad filter) or an error page
        cl = context["cl"]
        opts = self.model._meta
        query = request.GET.urlencode()
        tabs, chips = [], []
        for spec in cl.filter_specs:
            choices = list(spec.choices(cl))
            if isinstance(spec, CountedQueueFilter):
                tabs += [
                    {"label": c["display"], "url": c["query_string"], "selected": c["selected"]}
                    for c in choices
                ]
                continue
            chosen = [c for c in choices[1:] if c.get("selected")]
            if chosen and choices:
                chips.append(
                    {"title": spec.title, "value": chosen[0]["display"], "remove": choices[0]["query_string"]}
                )
        columns = [n for n in self.get_list_display(request) if n != "action_checkbox"]
        context.update(
            fundmgr_list={
                "queue_tabs": tabs,
                "active_filters": chips,
                "other_filters": [s for s in cl.filter_specs if not isinstance(s, CountedQueueFilter)],
                "wrap": list(self.list_wrap),
                "whole": self._whole_columns(columns),
                "exports": [
                    {
                        "label": _("导出 %(format)s") % {"format": fmt.upper()},
                        "url": reverse(f"admin:{opts.app_label}_{opts.model_name}_export", args=[fmt])
                        + (f"?{query}" if query else ""),
                    }
                    for fmt in EXPORT_FORMATS
                ],
            }
        )
        return response

    def _whole_columns(self, columns) -> list[str]:
        """Columns whose cells never wrap, even in English where other cells may (admin.css):
        the record's own name (the first column) and dates, amounts and numbers."""
        whole = []
        for index, name in enumerate(columns):
            key = getattr(name, "__name__", name)
            if key in self.list_wrap:
                continue
            if index == 0 or self._export_column(name).kind in (MONEY, INT, DECIMAL, DATE, DATETIME):
                whole.append(key)
        return whole

    # --- exports ----------------------------------------------------------------------------

    def get_export_columns(self, request) -> list[ExportColumn]:
        names = self.export_fields or [n for n in self.get_list_display(request) if n != "action_checkbox"]
        return [self._export_column(name) for name in names]

    def _export_column(self, name) -> ExportColumn:
        header = _export_text(label_for_field(name, self.model, self))
        if not callable(name):
            try:
                field = self.model._meta.get_field(name)
            except FieldDoesNotExist:
                field = None
            if field is not None and not (field.is_relation and not field.many_to_one):
                kind, value = _cell_of_field(field)
                return ExportColumn(header, value, kind)
        if name == "__str__":
            return ExportColumn(header, lambda obj: str(obj))
        attr = name if callable(name) else getattr(self, name, None)
        if attr is None:  # a model attribute or property
            return ExportColumn(header, lambda obj: _export_text(_follow(obj, name) or ""))
        if hasattr(attr, "export_value"):
            # A column shown in 万元 exports exact yuan, under a header of its own (`export_header`).
            header = str(getattr(attr, "export_header", header))
            return ExportColumn(header, attr.export_value, getattr(attr, "export_kind", TEXT))

        def value(obj):
            shown = attr(obj)
            if isinstance(shown, bool):
                return gettext("是") if shown else gettext("否")
            return shown if isinstance(shown, int | Decimal | dt.date) else _export_text(shown)

        return ExportColumn(header, value, getattr(attr, "export_kind", TEXT))

    def export_view(self, request, fmt: str):
        if fmt not in EXPORT_FORMATS:
            raise Http404
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        try:
            cl = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            changelist = reverse(
                f"admin:{self.model._meta.app_label}_{self.model._meta.model_name}_changelist"
            )
            return HttpResponseRedirect(f"{changelist}?{ERROR_FLAG}=1")
        columns = self.get_export_columns(request)
        rows = ([column.value(obj) for column in columns] for obj in cl.queryset.iterator(chunk_size=2000))
        title = str(self.model._meta.verbose_name_plural)
        if fmt == "xlsx":
            content, content_type = export_xlsx(title, columns, rows), XLSX_CONTENT_TYPE
        else:
            content, content_type = export_csv(columns, rows), CSV_CONTENT_TYPE
        response = HttpResponse(content, content_type=content_type)
        stamp = timezone.localtime(clock.now()).strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = content_disposition_header(True, f"{title}-{stamp}.{fmt}")
        return response


def _xlsx_value(value, kind: str):
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    return value


def export_xlsx(title: str, columns: Sequence[ExportColumn], rows: Iterable[list]) -> bytes:
    """One sheet: bold Chinese headers, frozen, with a filter; amounts `#,##0.00`, real dates."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet(title[:31])
    header = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True})
    formats = {kind: book.add_format({"num_format": spec}) for kind, spec in XLSX_FORMATS.items()}
    widths = [max(XLSX_WIDTHS.get(c.kind, 8), len(c.header) * 2 + 2) for c in columns]
    for index, column in enumerate(columns):
        sheet.write_string(0, index, column.header, header)
    count = 0
    for count, row in enumerate(rows, start=1):
        for index, (column, value) in enumerate(zip(columns, row, strict=True)):
            if value is None or value == "":
                continue
            if isinstance(value, str):
                sheet.write_string(count, index, value)
                if column.kind == TEXT:
                    widths[index] = min(max(widths[index], len(value) * 2 + 2), 60)
            elif isinstance(value, dt.date):
                kind = DATETIME if isinstance(value, dt.datetime) else DATE
                sheet.write_datetime(count, index, _xlsx_value(value, kind), formats[kind])
            else:
                sheet.write_number(count, index, value, formats.get(column.kind, formats[DECIMAL]))
    for index, width in enumerate(widths):
        sheet.set_column(index, index, width)
    sheet.freeze_panes(1, 0)
    if columns:
        sheet.autofilter(0, 0, max(count, 1), len(columns) - 1)
    book.close()
    return buffer.getvalue()


def export_csv(columns: Sequence[ExportColumn], rows: Iterable[list]) -> bytes:
    """UTF-8 with a byte-order mark (Excel opens the Chinese headers), plain numbers
    (1234567.80: a CSV is read by programs too) and ISO dates."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([c.header for c in columns])
    for row in rows:
        writer.writerow([_csv_text(value) for value in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _csv_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, dt.datetime):
        return (
            timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if timezone.is_aware(value) else str(value)
        )
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


# --- change pages -----------------------------------------------------------------------------


def in_final_state(obj, fsm_fields: Sequence[str]) -> bool:
    """True when no transition declared on the record's lifecycle leaves its current state
    (a rejected or removed record): read from the model's own declarations."""
    if obj is None or obj.pk is None or not fsm_fields:
        return False
    for name in fsm_fields:
        field = obj._meta.get_field(name)
        state = getattr(obj, field.attname)
        if state is None:
            continue
        for transition in field.get_all_transitions(obj.__class__):
            if transition.source == "*" or (transition.source == "+" and transition.target != state):
                return False
            if transition.source == state:
                return False
    return True


# A read-only money field shown through its display (`money__amount`: 2,500,000.00).
MONEY_DISPLAY = "money__"


def money_fields(model) -> set[str]:
    """The model's amounts in yuan: DecimalField(18, 2) by the project's convention."""
    return {
        f.name
        for f in model._meta.concrete_fields
        if isinstance(f, models.DecimalField) and f.decimal_places == 2 and f.max_digits >= 12
    }


class ChangePageMixin:
    """A change page that says what can be done on it: the transition buttons (if any) at the
    top, no save buttons when nothing on the page can be saved (a user who may only read, a
    record in a final state, a page of read-only panels), and read-only amounts with thousands
    separators (2,500,000.00, not 2500000.00)."""

    change_form_template = "admin/fundmgr/change_form.html"

    def __getattr__(self, name: str):
        # `money__<field>`: the display of a read-only amount (see get_fieldsets).
        if name.startswith(MONEY_DISPLAY) and "model" in self.__dict__:
            field = name.removeprefix(MONEY_DISPLAY)
            if field in money_fields(self.model):

                def show(obj):
                    value = getattr(obj, field)
                    return "—" if value is None else format_yuan(value)

                show.short_description = self.model._meta.get_field(field).verbose_name
                return show
        raise AttributeError(name)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if in_final_state(obj, getattr(self, "fsm_fields", ())):  # nothing left to change
            names = flatten_fieldsets(self.fieldsets) if self.fieldsets else (self.form._meta.fields or [])
            fields += [name for name in names if name not in fields]
        if obj is not None:
            fields += [MONEY_DISPLAY + name for name in sorted(money_fields(self.model))]
        return fields

    def get_fields(self, request, obj=None):
        # The amounts' displays stand in for their fields (get_fieldsets), never beside them.
        return [
            f
            for f in super().get_fields(request, obj)
            if not (isinstance(f, str) and f.startswith(MONEY_DISPLAY))
        ]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        amounts = money_fields(self.model)
        readonly = set(self.get_readonly_fields(request, obj))
        if self.has_change_permission(request, obj):
            amounts &= readonly
        # Only where the display is declared read-only too (a subclass may not ask this mixin).
        shown_read_only = {name for name in amounts if MONEY_DISPLAY + name in readonly}
        if not shown_read_only:
            return fieldsets

        def swap(name):
            if isinstance(name, list | tuple):
                return type(name)(swap(n) for n in name)
            return MONEY_DISPLAY + name if name in shown_read_only else name

        return [(title, {**options, "fields": swap(options["fields"])}) for title, options in fieldsets]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if "fsm_object_transitions" in context:  # a generator: the page shows it twice
            context["fsm_object_transitions"] = list(context["fsm_object_transitions"])
        if change and not self.page_is_editable(request, context, obj):
            context.update(show_save=False, show_save_and_continue=False, show_save_and_add_another=False)
        return super().render_change_form(
            request, context, add=add, change=change, form_url=form_url, obj=obj
        )

    def page_is_editable(self, request, context, obj) -> bool:
        """True when the page holds an input that saving would keep."""
        adminform = context.get("adminform")
        if adminform is not None and adminform.form.fields:
            return True
        return any(
            formset.has_add_permission or formset.has_change_permission
            for formset in context.get("inline_admin_formsets", [])
        )
