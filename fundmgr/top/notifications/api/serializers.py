"""Notification shapes for the API (read-only: notices are written by the services)."""

from __future__ import annotations

from rest_framework import serializers

from ..models import Notification


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "event", "subject", "body", "object_type", "object_id", "created_at", "read_at"]
        read_only_fields = fields
