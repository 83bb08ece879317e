"""The staff review web app (aiohttp): transcripts, corrections, dashboard, exports.

Started by `make run` on http://127.0.0.1:8090 (REVIEW_PORT), separate from everything
students reach. Every page but the login page needs a staff session.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import hmac
import io
import ipaddress
import json
import logging
import secrets
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from mako.lookup import TemplateLookup

from bot import senders
from bot.config import PROJECT_ROOT, Settings
from bot.db import review, staff
from bot.db.session import Database
from bot.review import nlu_export

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
CHART_JS = PROJECT_ROOT / "node_modules" / "chart.js" / "dist" / "chart.umd.min.js"
SESSION_COOKIE = "staff_session"
LOGIN_CSRF_COOKIE = "staff_login_csrf"
PUBLIC_PATHS = ("/login", "/static/")
MAX_TAG_LENGTH = 50
MAX_NOTE_LENGTH = 4000
IP_FAILURE_LIMIT = 20
IP_FAILURE_WINDOW = 15 * 60.0
DASHBOARD_DAYS = 30
PURGE_INTERVAL = 24 * 3600.0
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        "img-src 'self' data:; frame-ancestors 'none'; "
        "form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}

DB_KEY = web.AppKey("db", Database)
SETTINGS_KEY = web.AppKey("settings", Settings)
TEMPLATES_KEY = web.AppKey("templates", TemplateLookup)
FAILURES_KEY = web.AppKey("failures", dict)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def _db(request: web.Request, function: Callable[..., Any], *args: Any) -> Any:
    """Runs a (blocking) repository call off the event loop."""
    return await asyncio.to_thread(function, request.app[DB_KEY], *args)


def _render(request: web.Request, name: str, status: int = 200, **context: Any) -> web.Response:
    template = request.app[TEMPLATES_KEY].get_template(name)
    body = template.render(
        staff=request.get("staff"),
        csrf=request.get("csrf", ""),
        path=request.path,
        channel_labels=senders.LABELS,
        **context,
    )
    return web.Response(text=body, content_type="text/html", charset="utf-8", status=status)


# --- middlewares ---------------------------------------------------------------------------


ERROR_TEXTS = {
    404: "Sayfa bulunamadı.",
    405: "Bu adreste bu işlem yapılamaz.",
    413: "Gönderilen veri çok büyük.",
}


def _turkish_error(error: web.HTTPException) -> str:
    """Our own Turkish text, or a Turkish one where aiohttp would answer in English."""
    if error.status in ERROR_TEXTS:
        return ERROR_TEXTS[error.status]
    if error.text and not error.text.startswith(f"{error.status}:"):
        return error.text
    return "İstek işlenemedi."


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Strict headers on every answer; errors become a Turkish page, never a trace."""
    try:
        response = await handler(request)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        response = _render(
            request, "error.mako", status=error.status, message=_turkish_error(error)
        )
    except Exception:
        logger.exception("review app error on %s", request.path)
        response = _render(
            request,
            "error.mako",
            status=500,
            message="Beklenmeyen bir hata oluştu; tekrar deneyin.",
        )
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


@web.middleware
async def require_staff(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Everything except the login page and static files needs a live staff session;
    every POST needs the session's CSRF token."""
    if request.path.startswith(PUBLIC_PATHS):
        return await handler(request)
    token = request.cookies.get(SESSION_COOKIE, "")
    found = await _db(request, staff.session_staff, token, _now()) if token else None
    if found is None:
        if request.path.startswith("/api/") or request.method != "GET":
            raise web.HTTPUnauthorized(text="Oturum açmanız gerekiyor.")
        raise web.HTTPSeeOther("/login")
    request["staff"], request["csrf"] = found
    if request.method == "POST":
        form = await request.post()
        sent = str(form.get("csrf", "")) or request.headers.get("X-CSRF-Token", "")
        if not hmac.compare_digest(sent.encode(), request["csrf"].encode()):
            raise web.HTTPForbidden(
                text="Güvenlik doğrulaması başarısız (CSRF). Sayfayı yenileyip tekrar deneyin."
            )
    return await handler(request)


# --- login ---------------------------------------------------------------------------------


def _cookie_options(request: web.Request) -> dict[str, Any]:
    secure = request.secure or not _is_loopback(request.app[SETTINGS_KEY].host)
    return {"httponly": True, "samesite": "Strict", "secure": secure, "path": "/"}


async def login_page(request: web.Request) -> web.Response:
    """The login form, with a CSRF token bound to a cookie (kept across reloads and tabs)."""
    existing = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    token = existing if len(existing) == 43 else secrets.token_urlsafe(32)
    response = _render(request, "login.mako", login_csrf=token, error=None)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, max_age=3600, **_cookie_options(request))
    return response


def _ip_blocked(request: web.Request) -> bool:
    failures: dict[str, list[float]] = request.app[FAILURES_KEY]
    recent = [
        t
        for t in failures.get(request.remote or "", [])
        if time.monotonic() - t < IP_FAILURE_WINDOW
    ]
    failures[request.remote or ""] = recent
    return len(recent) >= IP_FAILURE_LIMIT


async def login(request: web.Request) -> web.Response:
    """Checks the password; locks the account after repeated failures."""
    form = await request.post()
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    sent = str(form.get("csrf", ""))
    if not cookie or not hmac.compare_digest(sent.encode(), cookie.encode()):
        raise web.HTTPForbidden(
            text="Güvenlik doğrulaması başarısız (CSRF). Giriş sayfasını yenileyip tekrar deneyin."
        )
    if _ip_blocked(request):
        return _render(
            request,
            "login.mako",
            status=429,
            login_csrf=cookie,
            error="Çok fazla hatalı deneme. Bir süre sonra tekrar deneyin.",
        )
    username = str(form.get("username", "")).strip().lower()[:64]
    password = str(form.get("password", ""))[:1024]
    try:
        user = await _db(request, staff.authenticate, username, password, _now())
    except staff.LockedOut:
        return _render(
            request,
            "login.mako",
            status=429,
            login_csrf=cookie,
            error="Bu hesap çok fazla hatalı deneme nedeniyle geçici olarak "
            "kilitlendi. 15 dakika sonra tekrar deneyin.",
        )
    if user is None:
        request.app[FAILURES_KEY].setdefault(request.remote or "", []).append(time.monotonic())
        return _render(
            request,
            "login.mako",
            status=401,
            login_csrf=cookie,
            error="Kullanıcı adı veya parola hatalı.",
        )
    token, _ = await _db(request, staff.open_session, user.id, _now())
    response = web.HTTPSeeOther("/conversations")
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(staff.SESSION_LIFETIME.total_seconds()),
        **_cookie_options(request),
    )
    response.del_cookie(LOGIN_CSRF_COOKIE, path="/")
    raise response


async def logout(request: web.Request) -> web.Response:
    """Ends the session."""
    await _db(request, staff.close_session, request.cookies.get(SESSION_COOKIE, ""))
    response = web.HTTPSeeOther("/login")
    response.del_cookie(SESSION_COOKIE, path="/")
    raise response


# --- conversations -------------------------------------------------------------------------


def _parse_date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def filters_from(query: Any) -> review.Filters:
    """The list filters from a query string; unknown values are ignored."""
    reviewed = {"yes": True, "no": False}.get(query.get("reviewed", ""))
    channel = query.get("channel", "")
    return review.Filters(
        date_from=_parse_date(query.get("from", "")),
        date_to=_parse_date(query.get("to", "")),
        channel=channel if channel in senders.LABELS else None,
        topic=query.get("topic", "")[:120] or None,
        misunderstood=query.get("misunderstood") == "1",
        asked_human=query.get("human") == "1",
        tag=query.get("tag", "")[:MAX_TAG_LENGTH] or None,
        reviewed=reviewed,
        search=query.get("q", "")[:200] or None,
    )


def _page(request: web.Request) -> int:
    raw = request.query.get("page", "1")
    return min(max(int(raw), 1), 100000) if raw.isdigit() else 1


async def conversations(request: web.Request) -> web.Response:
    """The conversation list with its filters."""
    filters = filters_from(request.query)
    page = _page(request)
    threshold = request.app[SETTINGS_KEY].review_low_confidence
    rows, more = await _db(request, review.list_conversations, filters, threshold, page)
    tags = await _db(request, review.all_tags)
    query = {k: v for k, v in request.query.items() if k != "page" and v}
    return _render(
        request,
        "conversations.mako",
        rows=rows,
        page=page,
        more=more,
        query=dict(request.query),
        tags=tags,
        topics=[topic.name for topic in nlu_export.topics()],
        page_url=lambda p: "/conversations?" + urlencode({**query, "page": p}),
        export_query=urlencode(query),
        threshold=threshold,
    )


def _conversation_id(request: web.Request) -> int:
    raw = request.match_info["id"]
    if not raw.isdigit():
        raise web.HTTPNotFound()
    return int(raw)


async def conversation(request: web.Request) -> web.Response:
    """One conversation as a chat, with understanding, tags, notes and corrections."""
    view = await _db(request, review.get_conversation, _conversation_id(request))
    if view is None:
        raise web.HTTPNotFound()
    return _render(
        request,
        "conversation.mako",
        view=view,
        topics=nlu_export.topics(),
        threshold=request.app[SETTINGS_KEY].review_low_confidence,
    )


def _back(conversation_id: int) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(f"/conversations/{conversation_id}")


async def _existing_conversation(request: web.Request) -> int:
    conversation_id = _conversation_id(request)
    if not await _db(request, review.conversation_exists, conversation_id):
        raise web.HTTPNotFound()
    return conversation_id


async def add_tag(request: web.Request) -> web.Response:
    """Tags the conversation."""
    conversation_id = await _existing_conversation(request)
    tag = " ".join(str((await request.post()).get("tag", "")).split())[:MAX_TAG_LENGTH]
    if tag:
        await _db(request, review.add_tag, conversation_id, tag)
    raise _back(conversation_id)


async def remove_tag(request: web.Request) -> web.Response:
    """Removes a tag."""
    conversation_id = _conversation_id(request)
    await _db(request, review.remove_tag, conversation_id, str((await request.post()).get("tag")))
    raise _back(conversation_id)


async def add_note(request: web.Request) -> web.Response:
    """Leaves a note."""
    conversation_id = await _existing_conversation(request)
    note = str((await request.post()).get("note", "")).strip()[:MAX_NOTE_LENGTH]
    if note:
        await _db(request, review.add_note, conversation_id, request["staff"].id, note, _now())
    raise _back(conversation_id)


async def mark_reviewed(request: web.Request) -> web.Response:
    """Marks the conversation reviewed, or not reviewed again."""
    conversation_id = await _existing_conversation(request)
    reviewed = (await request.post()).get("reviewed") == "1"
    await _db(
        request,
        review.set_reviewed,
        conversation_id,
        request["staff"].id if reviewed else None,
        _now(),
    )
    raise _back(conversation_id)


async def delete_conversation(request: web.Request) -> web.Response:
    """Deletes a conversation completely (admins only)."""
    if not request["staff"].is_admin:
        raise web.HTTPForbidden(text="Bu işlem yalnızca yöneticilere açıktır.")
    await _db(request, review.delete_conversation, _conversation_id(request))
    raise web.HTTPSeeOther("/conversations")


async def correct(request: web.Request) -> web.Response:
    """Confirms or corrects what a user message meant."""
    raw = request.match_info["id"]
    form = await request.post()
    topic = nlu_export.topic_named(str(form.get("topic", "")))
    if not raw.isdigit() or topic is None:
        raise web.HTTPBadRequest(text="Geçersiz konu seçimi.")
    try:
        await _db(
            request,
            review.set_correction,
            int(raw),
            topic.intent,
            topic.faq_key,
            request["staff"].id,
            _now(),
        )
    except LookupError as error:
        raise web.HTTPNotFound() from error
    target = str(form.get("next", ""))
    raise web.HTTPSeeOther(
        target if target.startswith("/") and not target.startswith("//") else "/misunderstood"
    )


async def misunderstood(request: web.Request) -> web.Response:
    """Fallbacks and low-confidence messages not yet handled, most frequent first."""
    threshold = request.app[SETTINGS_KEY].review_low_confidence
    groups = await _db(request, review.misunderstood, threshold)
    return _render(
        request,
        "misunderstood.mako",
        groups=groups,
        topics=nlu_export.topics(),
        threshold=threshold,
    )


# --- dashboard and exports -----------------------------------------------------------------


async def dashboard(request: web.Request) -> web.Response:
    """The charts page; the figures come from /api/dashboard."""
    return _render(request, "dashboard.mako", days=DASHBOARD_DAYS)


async def dashboard_data(request: web.Request) -> web.Response:
    """Figures for the charts, as JSON."""
    since = _now() - dt.timedelta(days=DASHBOARD_DAYS)
    data = await _db(
        request, review.dashboard, since, request.app[SETTINGS_KEY].review_low_confidence
    )
    titles = {topic.name: topic.label for topic in nlu_export.topics()}
    for item in data["top_topics"]:
        item["title"] = titles.get(f"faq/{item['key']}", item["key"])
    for item in data["channels"]:
        item["label"] = senders.LABELS.get(item["channel"], item["channel"])
    return web.json_response(data)


async def export_nlu(request: web.Request) -> web.Response:
    """The corrected examples as a Rasa NLU YAML file."""
    text, _ = await _db(request, nlu_export.export_yaml)
    return web.Response(
        text=text,
        content_type="application/x-yaml",
        charset="utf-8",
        headers={"Content-Disposition": 'attachment; filename="nlu_corrections.yml"'},
    )


def _conversation_json(view: review.ConversationView) -> dict[str, Any]:
    row = view.row
    return {
        "id": row.id,
        "sender_id": row.sender_id,
        "channel": row.channel,
        "started_at": row.started_at.isoformat(),
        "last_event_at": view.last_event_at.isoformat(),
        "turns": row.turns,
        "min_confidence": row.min_confidence,
        "fell_back": row.fell_back,
        "asked_human": row.asked_human,
        "linked": row.linked,
        "reviewed": row.reviewed,
        "tags": list(row.tags),
        "notes": [
            {"author": n.author, "text": n.text, "created_at": n.created_at.isoformat()}
            for n in view.notes
        ],
        "messages": [
            {
                "kind": m.kind,
                "sent_at": m.sent_at.isoformat(),
                "text": m.text,
                "intent": m.intent,
                "faq_key": m.faq_key,
                "confidence": m.confidence,
                "fell_back": m.fell_back,
                "action": m.action,
                "corrected_intent": m.corrected_intent,
                "corrected_faq_key": m.corrected_faq_key,
            }
            for m in view.messages
        ],
    }


CSV_COLUMNS = [
    "conversation_id",
    "sender_id",
    "channel",
    "sent_at",
    "kind",
    "text",
    "intent",
    "faq_key",
    "confidence",
    "action",
    "corrected_intent",
    "corrected_faq_key",
]


def _csv_safe(value: Any) -> Any:
    """Spreadsheets run cells starting with = + - @ as formulas; quote them."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _export(views: list[review.ConversationView], fmt: str, name: str) -> web.Response:
    disposition = {"Content-Disposition": f'attachment; filename="{name}.{fmt}"'}
    if fmt == "json":
        body = json.dumps([_conversation_json(v) for v in views], ensure_ascii=False, indent=1)
        return web.Response(
            text=body, content_type="application/json", charset="utf-8", headers=disposition
        )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for view in views:
        for m in view.messages:
            writer.writerow(
                [
                    _csv_safe(v)
                    for v in (
                        view.row.id,
                        view.row.sender_id,
                        view.row.channel,
                        m.sent_at.isoformat(),
                        m.kind,
                        m.text,
                        m.intent,
                        m.faq_key,
                        m.confidence,
                        m.action,
                        m.corrected_intent,
                        m.corrected_faq_key,
                    )
                ]
            )
    return web.Response(
        text=out.getvalue(), content_type="text/csv", charset="utf-8", headers=disposition
    )


async def export_conversation(request: web.Request) -> web.Response:
    """One conversation as JSON or CSV."""
    view = await _db(request, review.get_conversation, _conversation_id(request))
    if view is None:
        raise web.HTTPNotFound()
    return _export([view], request.match_info["fmt"], f"konusma-{view.row.id}")


async def export_conversations(request: web.Request) -> web.Response:
    """The filtered conversations (at most 5000) as JSON or CSV."""
    threshold = request.app[SETTINGS_KEY].review_low_confidence
    ids = await _db(request, review.conversation_ids, filters_from(request.query), threshold)
    views = [v for v in [await _db(request, review.get_conversation, i) for i in ids] if v]
    return _export(views, request.match_info["fmt"], "konusmalar")


async def chart_js(request: web.Request) -> web.FileResponse:
    """Chart.js, vendored by npm (node_modules), served by us: no CDN."""
    return web.FileResponse(CHART_JS, headers={"Content-Type": "text/javascript"})


async def index(request: web.Request) -> web.Response:
    """Home: the conversation list."""
    raise web.HTTPSeeOther("/conversations")


# --- the app -------------------------------------------------------------------------------


async def _purge_old(app: web.Application) -> None:
    days = app[SETTINGS_KEY].transcript_retention_days
    try:
        gone = await asyncio.to_thread(review.purge, app[DB_KEY], _now() - dt.timedelta(days=days))
        logger.info("retention: purged %d conversations older than %d days", gone, days)
    except Exception:
        logger.exception("retention purge failed; will retry tomorrow")


async def _purge_daily(app: web.Application) -> Any:
    """Deletes transcripts older than TRANSCRIPT_RETENTION_DAYS at start, then once a day."""
    await _purge_old(app)

    async def every_day() -> None:
        while True:
            await asyncio.sleep(PURGE_INTERVAL)
            await _purge_old(app)

    task = asyncio.create_task(every_day())
    yield
    task.cancel()


def create_app(db: Database, settings: Settings, purge_daily: bool = False) -> web.Application:
    """The review app on `db`."""
    app = web.Application(middlewares=[security_headers, require_staff], client_max_size=64 * 1024)
    app[DB_KEY], app[SETTINGS_KEY], app[FAILURES_KEY] = db, settings, {}
    app[TEMPLATES_KEY] = TemplateLookup(
        directories=[str(HERE / "templates")],
        default_filters=["h"],
        input_encoding="utf-8",
        strict_undefined=True,
    )
    app.router.add_get("/", index)
    app.router.add_get("/login", login_page)
    app.router.add_post("/login", login)
    app.router.add_post("/logout", logout)
    app.router.add_get("/conversations", conversations)
    app.router.add_get(r"/conversations/{id}", conversation)
    app.router.add_get(r"/conversations/{id}/export.{fmt:json|csv}", export_conversation)
    app.router.add_post(r"/conversations/{id}/tags", add_tag)
    app.router.add_post(r"/conversations/{id}/tags/remove", remove_tag)
    app.router.add_post(r"/conversations/{id}/notes", add_note)
    app.router.add_post(r"/conversations/{id}/reviewed", mark_reviewed)
    app.router.add_post(r"/conversations/{id}/delete", delete_conversation)
    app.router.add_post(r"/messages/{id}/correction", correct)
    app.router.add_get("/misunderstood", misunderstood)
    app.router.add_get("/dashboard", dashboard)
    app.router.add_get("/api/dashboard", dashboard_data)
    app.router.add_get("/export/nlu.yml", export_nlu)
    app.router.add_get(r"/export/conversations.{fmt:json|csv}", export_conversations)
    app.router.add_get("/static/vendor/chart.umd.min.js", chart_js)
    app.router.add_static("/static/", HERE / "static")
    if purge_daily:
        app.cleanup_ctx.append(_purge_daily)
    return app


def main(settings: Settings) -> None:
    """Serves the review app on BIND_HOST:REVIEW_PORT until stopped."""
    logging.basicConfig(level=logging.INFO)
    app = create_app(Database(), settings, purge_daily=True)
    web.run_app(app, host=settings.host, port=settings.review_port, print=None, access_log=None)


@contextmanager
def serving_in_thread(db: Database, settings: Settings, purge_daily: bool = False) -> Iterator[str]:
    """The review app on 127.0.0.1:REVIEW_PORT in a background thread (tests, benchmarks)."""
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(create_app(db, settings, purge_daily=purge_daily))
    ready = threading.Event()

    def serve() -> None:  # the whole server lives in this thread's own event loop
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", settings.review_port).start())
        ready.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    if not ready.wait(30):
        raise RuntimeError("the review app did not start")
    try:
        yield f"http://127.0.0.1:{settings.review_port}"
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)
