"""Reads about notifications: each reader's own inbox, and how much of it is unread."""

from __future__ import annotations

from django.db.models import QuerySet

from fundmgr.ground.accounts.models import Role

from .models import Notification


def reads_everyones(user) -> bool:
    """The system administrator (role admin, or a superuser) may read every notice, to follow
    the delivery of e-mails; everyone else reads only their own."""
    return bool(
        user
        and user.is_authenticated
        and user.is_active
        and (user.is_superuser or getattr(user, "role", None) == Role.ADMIN)
    )


def notifications_visible_to(user) -> QuerySet[Notification]:
    """The notices `user` may read in the admin: their own; all of them for the system
    administrator. Anonymous or inactive: none."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Notification.objects.none()
    if reads_everyones(user):
        return Notification.objects.all()
    return Notification.objects.filter(recipient_id=user.pk)


def unread_count(user) -> int:
    """How many of the user's own notices are unread: one COUNT, answered from the partial
    index on unread rows (`notif_recipient_unread_idx`)."""
    if user is None or not user.is_authenticated:
        return 0
    return Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True).count()
