"""The real task path: a Celery worker consuming from Redis sends each e-mail exactly once.

Skipped, with the reason, when `REDIS_URL` is unset or Redis does not answer. The worker runs
in a thread of this process (solo pool), so it shares Django's settings and the locmem
outbox, and it needs committed rows: the tests use a transactional database.

The worker gets its own Celery app, configured from the same Django settings as the project's
and pointed at this Redis and at a queue of its own: kombu caches queues, routes and result
backends per app, so re-pointing the project's (eager) app in mid-process would be unreliable,
and a private queue keeps another worker on the same Redis from taking these messages. The
shared tasks register themselves on every app, so `email_send.delay()` inside
`notify()` publishes through this app while it is the current one. Everything is bounded by
timeouts: the broker connection, the worker's start and stop, and every wait for a result.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
import redis
from celery import Celery, _state
from celery.contrib.testing.worker import TestWorkController, start_worker
from celery.signals import task_postrun
from django.core import mail
from django.core.mail import send_mail as real_send_mail
from django.db import transaction

from fundmgr.ground.accounts.models import Role, User
from fundmgr.top.notifications import delivery
from fundmgr.top.notifications.delivery import email_send
from fundmgr.top.notifications.models import Notification
from fundmgr.top.notifications.services import notify

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]

TASK = email_send.name
WAIT_SECONDS = 30


class BoundedWorker(TestWorkController):
    """A test worker whose start is waited for with a timeout, never forever."""

    def ensure_started(self) -> None:
        if not self._on_started.wait(timeout=WAIT_SECONDS):
            raise RuntimeError(f"the Celery test worker did not start within {WAIT_SECONDS} s")


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.skip("REDIS_URL is not set: the real-worker test needs a Redis broker")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis at {url} does not answer: {exc}")
    return url


@pytest.fixture
def finished() -> Iterator[list[tuple[str, object]]]:
    """(task id, return value) of every run of the send task in the worker."""
    runs: list[tuple[str, object]] = []

    def record(sender=None, task_id=None, retval=None, **kwargs) -> None:
        if getattr(sender, "name", None) == TASK and not sender.request.is_eager:
            runs.append((task_id, retval))

    task_postrun.connect(record, weak=False)
    yield runs
    task_postrun.disconnect(record)


@pytest.fixture
def worker_app(redis_url, finished) -> Iterator[Celery]:
    """A non-eager app on Redis with a running worker; the project's app is restored after."""
    queue = f"fundmgr-test-{uuid.uuid4().hex[:12]}"
    app = Celery("fundmgr-worker-test", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.update(
        broker_url=redis_url,
        result_backend=redis_url,
        task_always_eager=False,  # the session fixture makes the project's app eager
        task_default_queue=queue,
        broker_connection_timeout=3,
        broker_connection_retry_on_startup=False,
        broker_connection_max_retries=1,
        result_expires=300,
        worker_hijack_root_logger=False,
    )
    previous_current, previous_default = _state.get_current_app(), _state.default_app
    try:
        with start_worker(
            app,
            pool="solo",
            perform_ping_check=False,
            shutdown_timeout=WAIT_SECONDS,
            WorkController=BoundedWorker,
        ):
            yield app  # start_worker made it the current and default app
    finally:
        _state.set_default_app(previous_default)
        previous_current.set_current()
        # The private queue's bookkeeping would otherwise stay in Redis after every run.
        keys = [queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}"]
        redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=2).delete(*keys)


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {WAIT_SECONDS} s waiting for {what}")
        time.sleep(0.05)


def approve_claim(user: User, n: int = 1) -> Notification:
    with transaction.atomic(durable=True):  # a lifecycle command: enqueued when it commits
        [row] = notify(
            event="claim.approved",
            event_key=f"claim.approved:{n}",
            recipients=[user],
            subject=f"补偿申请 ZQ-CL-{n} 已批准",
            body="批准补偿金额 500000.00 元，待财务付款。",
        )
    return row


@pytest.fixture
def finance() -> User:
    return User.objects.create(username="finance-w", role=Role.FINANCE, email="finance@fund.example.cn")


def test_the_worker_sends_once_when_the_task_is_delivered_twice(worker_app, finished, finance):
    row = approve_claim(finance)  # delivery 1: enqueued on commit by notify()
    # The same message delivered twice more (a redelivery after a lost ack, a second worker).
    task_id = str(uuid.uuid4())
    for _ in range(2):
        email_send.apply_async(args=[row.pk], task_id=task_id)

    result = worker_app.AsyncResult(task_id).get(timeout=WAIT_SECONDS)
    assert result in ("sent", "not_claimed")
    wait_for(lambda: len(finished) >= 3, "three runs of the send task")

    assert [value for _, value in finished].count("sent") == 1
    assert [m.to for m in mail.outbox] == [["finance@fund.example.cn"]]
    row = Notification.objects.get(pk=row.pk)
    assert (row.email_status, row.attempts) == ("sent", 1)


def test_the_worker_retries_a_failed_send_with_back_off_and_sends_once(
    worker_app, finished, finance, monkeypatch, settings
):
    settings.NOTIFICATION_EMAIL_RETRY_BASE_SECONDS = 0.5
    calls = {"n": 0}
    lock = threading.Lock()

    def flaky(**kwargs):
        with lock:
            calls["n"] += 1
            first = calls["n"] == 1
        if first:
            raise ConnectionRefusedError("mail server restarting")
        return real_send_mail(**kwargs)

    monkeypatch.setattr(delivery, "send_mail", flaky)
    row = approve_claim(finance, n=2)

    wait_for(lambda: Notification.objects.get(pk=row.pk).email_status == "sent", "the retried send")
    wait_for(lambda: len(finished) >= 2, "the failed run and its retry")
    row = Notification.objects.get(pk=row.pk)
    assert (row.attempts, row.last_error) == (2, "")
    assert [m.to for m in mail.outbox] == [["finance@fund.example.cn"]]
    # The first run ended in a retry request, the second sent.
    assert [type(value).__name__ for _, value in finished] == ["Retry", "str"]
    assert finished[1][1] == "sent" and finished[0][0] == finished[1][0]
