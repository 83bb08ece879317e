"""Staff review: the transcript index and its filters, accounts, the web app's security."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest
import yaml

from bot.config import PROJECT_ROOT
from bot.db import review, staff
from bot.db.models import StaffRole
from bot.db.session import Database
from bot.review.nlu_export import export_yaml
from tests.review_helpers import (
    NOW,
    PASSWORD,
    Said,
    add_staff,
    csrf_of,
    login,
    seed_conversation,
    serving,
)

THRESHOLD = 0.5


@pytest.fixture()
def seeded(database: Database) -> dict[str, int]:
    """Five conversations covering every filter."""
    day = dt.timedelta(days=1)
    return {
        "faq": seed_conversation(
            database,
            "tg:100",
            NOW - 3 * day,
            [
                Said("staj ücreti ne zaman yatar", "faq", 0.97, "payment_date"),
                Said("teşekkürler", "thank", 0.99, answer="Rica ederim!", action="utter_thank"),
            ],
        ),
        "fallback": seed_conversation(
            database,
            "rest:abc",
            NOW - 2 * day,
            [
                Said(
                    "kpss puanım yeterli mi acaba",
                    "nlu_fallback",
                    0.31,
                    action="action_default_fallback",
                )
            ],
        ),
        "low": seed_conversation(
            database,
            "web-anon:x1",
            NOW - day,
            [Said("sigortamı kim yapıcak", "faq", 0.42, "insurance_who")],
        ),
        "human": seed_conversation(
            database,
            "web:7",
            NOW - day + dt.timedelta(hours=1),
            [
                Said(
                    "bir yetkiliyle görüşmek istiyorum",
                    "human_handoff",
                    0.93,
                    action="utter_human_handoff",
                )
            ],
        ),
        "old": seed_conversation(
            database,
            "tg:100",
            NOW - 40 * day,
            [Said("Merhaba", "greet", 0.99, action="utter_greet")],
        ),
    }


def _ids(db: Database, **filters) -> set[int]:
    rows, _ = review.list_conversations(db, review.Filters(**filters), THRESHOLD)
    return {row.id for row in rows}


def test_conversations_are_listed_newest_first_with_their_figures(
    database: Database, seeded: dict[str, int]
) -> None:
    rows, more = review.list_conversations(database, review.Filters(), THRESHOLD)
    assert [row.id for row in rows] == [
        seeded[k] for k in ("human", "low", "fallback", "faq", "old")
    ]
    assert not more
    faq = next(row for row in rows if row.id == seeded["faq"])
    assert (faq.channel, faq.turns, faq.min_confidence) == ("tg", 2, pytest.approx(0.97))
    page_two, _ = review.list_conversations(
        database, review.Filters(), THRESHOLD, page=2, page_size=2
    )
    assert [row.id for row in page_two] == [seeded["fallback"], seeded["faq"]]


def test_each_filter_returns_the_right_conversations(
    database: Database, seeded: dict[str, int]
) -> None:
    s = seeded
    assert _ids(database, channel="tg") == {s["faq"], s["old"]}
    assert _ids(database, channel="web-anon") == {s["low"]}
    assert _ids(database, misunderstood=True) == {s["fallback"], s["low"]}
    assert _ids(database, asked_human=True) == {s["human"]}
    assert _ids(database, topic="faq/insurance_who") == {s["low"]}
    assert _ids(database, topic="thank") == {s["faq"]}
    assert _ids(
        database,
        date_from=(NOW - dt.timedelta(days=2)).date(),
        date_to=(NOW - dt.timedelta(days=2)).date(),
    ) == {s["fallback"]}
    assert _ids(database, date_from=(NOW - dt.timedelta(days=10)).date()) == set(s.values()) - {
        s["old"]
    }
    # Search folds Turkish letters and case: "SİGORTAMI" finds "sigortamı".
    assert _ids(database, search="SİGORTAMI kim") == {s["low"]}
    assert _ids(database, search="ucreti") == {s["faq"]}
    assert _ids(database, search="100%") == set()
    review.add_tag(database, s["fallback"], "kapsam dışı")
    review.set_reviewed(database, s["human"], None, NOW)
    assert _ids(database, tag="kapsam dışı") == {s["fallback"]}
    staff_id = staff.add_staff(database, "ayse", PASSWORD, StaffRole.REVIEWER, NOW)
    review.set_reviewed(database, s["human"], staff_id, NOW)
    assert _ids(database, reviewed=True) == {s["human"]}
    assert s["human"] not in _ids(database, reviewed=False)
    assert _ids(database, channel="tg", misunderstood=True) == set()


def test_the_misunderstood_queue_groups_similar_messages_most_frequent_first(
    database: Database,
) -> None:
    for n, text in enumerate(["KPSS ne zaman?", "kpss ne zaman", "Kpss NE ZAMAN"]):
        seed_conversation(
            database, f"rest:k{n}", NOW - dt.timedelta(hours=n), [Said(text, "nlu_fallback", 0.2)]
        )
    seed_conversation(database, "rest:y", NOW, [Said("yurt başvurusu", "faq", 0.3, "x")])
    seed_conversation(database, "rest:ok", NOW, [Said("staj ücreti", "faq", 0.99, "y")])
    queue = review.misunderstood(database, THRESHOLD)
    assert [(g.folded_text, g.count) for g in queue] == [
        ("kpss ne zaman", 3),
        ("yurt basvurusu", 1),
    ]
    staff_id = staff.add_staff(database, "ayse", PASSWORD, StaffRole.REVIEWER, NOW)
    review.set_correction(database, queue[1].message_id, "out_of_scope", None, staff_id, NOW)
    assert [g.folded_text for g in review.misunderstood(database, THRESHOLD)] == ["kpss ne zaman"]


def test_corrections_export_as_rasa_nlu_data_without_duplicates(
    database: Database, tmp_path
) -> None:
    from rasa.shared.nlu.training_data.loading import load_data

    conversation = seed_conversation(
        database,
        "rest:c",
        NOW,
        [
            Said("stajım ne zmn başlıyo", "nlu_fallback", 0.2),
            Said("STAJIM NE ZMN BAŞLIYO", "nlu_fallback", 0.2),
            Said("kpss ne zaman", "faq", 0.3, "program_period"),
            Said("Staj ücreti ödenecek mi?", "faq", 0.45, "payment"),
        ],
    )  # in the training data
    messages = [
        m for m in review.get_conversation(database, conversation).messages if m.kind == "user"
    ]
    staff_id = staff.add_staff(database, "ayse", PASSWORD, StaffRole.REVIEWER, NOW)
    review.set_correction(database, messages[0].id, "faq", "program_period", staff_id, NOW)
    review.set_correction(database, messages[1].id, "faq", "program_period", staff_id, NOW)
    review.set_correction(database, messages[2].id, "out_of_scope", None, staff_id, NOW)
    review.set_correction(database, messages[3].id, "faq", "payment", staff_id, NOW)
    training = tmp_path / "nlu"
    training.mkdir()
    (training / "faq.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: faq/payment\n  examples: |\n'
        "    - staj ucreti odenecek mi\n",
        encoding="utf-8",
    )
    text, count = export_yaml(database, training)
    path = tmp_path / "corrections.yml"
    path.write_text(text, encoding="utf-8")

    data = load_data(str(path))
    examples = {(m.get("intent"), m.get("text")) for m in data.intent_examples}
    assert count == 2
    assert examples == {("faq", "stajım ne zmn başlıyo"), ("out_of_scope", "kpss ne zaman")}
    assert yaml.safe_load(text)["nlu"][0]["intent"] == "faq/program_period"


def test_examples_already_in_the_training_data_are_not_exported(database: Database) -> None:
    conversation = seed_conversation(
        database, "rest:d", NOW, [Said("KPSS BAŞVURULARI NE ZAMAN", "nlu_fallback", 0.2)]
    )
    message = review.get_conversation(database, conversation).messages[0]
    staff_id = staff.add_staff(database, "ayse", PASSWORD, StaffRole.REVIEWER, NOW)
    review.set_correction(database, message.id, "out_of_scope", None, staff_id, NOW)
    text, count = export_yaml(database)  # out_of_scope.yml: "kpss başvuruları ne zaman"
    assert count == 0 and "KPSS" not in text


# --- accounts ------------------------------------------------------------------------------


def test_passwords_are_stored_as_salted_scrypt_hashes(database: Database) -> None:
    first, second = staff.hash_password(PASSWORD), staff.hash_password(PASSWORD)
    assert first.startswith("scrypt$") and first != second and PASSWORD not in first
    assert staff.verify_password(PASSWORD, first)
    assert not staff.verify_password(PASSWORD + "x", first)
    assert not staff.verify_password(PASSWORD, "bozuk")
    with pytest.raises(ValueError):
        staff.add_staff(database, "kisa", "123", StaffRole.REVIEWER, NOW)


def test_repeated_wrong_passwords_lock_the_account(database: Database) -> None:
    add_staff(database, "ayse")
    for _ in range(staff.MAX_FAILED_LOGINS):
        assert staff.authenticate(database, "ayse", "yanlış", NOW) is None
    with pytest.raises(staff.LockedOut):
        staff.authenticate(database, "ayse", PASSWORD, NOW + dt.timedelta(minutes=1))
    later = NOW + staff.LOCKOUT + dt.timedelta(seconds=1)
    assert staff.authenticate(database, "ayse", PASSWORD, later).username == "ayse"


# --- the web app ---------------------------------------------------------------------------


@pytest.fixture()
def app(database: Database, seeded: dict[str, int]) -> Iterator[str]:
    """The review app on the seeded database, with a reviewer and an admin."""
    add_staff(database, "ayse", StaffRole.REVIEWER)
    add_staff(database, "mehmet", StaffRole.ADMIN)
    with serving(database) as base:
        yield base


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/conversations",
        "/conversations/1",
        "/dashboard",
        "/misunderstood",
        "/export/nlu.yml",
        "/export/conversations.csv",
        "/conversations/1/export.json",
    ],
)
def test_nothing_is_visible_without_login(app: str, path: str) -> None:
    answer = httpx.get(app + path, follow_redirects=True)
    assert answer.url.path == "/login"
    assert "Personel girişi" in answer.text and "ücreti" not in answer.text


def test_api_and_forms_refuse_without_login(app: str, seeded: dict[str, int]) -> None:
    assert httpx.get(f"{app}/api/dashboard").status_code == 401
    answer = httpx.post(f"{app}/conversations/{seeded['faq']}/tags", data={"tag": "x"})
    assert answer.status_code == 401


def test_login_with_the_right_password_opens_a_strict_cookie_session(app: str) -> None:
    client = httpx.Client(base_url=app)
    token = csrf_of(client.get("/login").text)
    answer = client.post("/login", data={"username": "ayse", "password": PASSWORD, "csrf": token})
    cookie = answer.headers["set-cookie"]
    assert answer.status_code == 303 and "staff_session=" in cookie
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    page = client.get("/conversations")
    assert page.status_code == 200 and "ayse (inceleyici)" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    client.post("/logout", data={"csrf": csrf_of(page.text)})
    assert client.get("/conversations").status_code == 303


def test_a_wrong_password_is_refused_in_turkish(app: str) -> None:
    client = httpx.Client(base_url=app)
    token = csrf_of(client.get("/login").text)
    answer = client.post("/login", data={"username": "ayse", "password": "yanlış", "csrf": token})
    assert answer.status_code == 401 and "Kullanıcı adı veya parola hatalı." in answer.text
    assert "staff_session" not in answer.headers.get("set-cookie", "")


def test_the_account_locks_after_repeated_failures(app: str) -> None:
    client = httpx.Client(base_url=app)
    token = csrf_of(client.get("/login").text)
    for _ in range(staff.MAX_FAILED_LOGINS):
        client.post("/login", data={"username": "ayse", "password": "yanlış", "csrf": token})
    answer = client.post("/login", data={"username": "ayse", "password": PASSWORD, "csrf": token})
    assert answer.status_code == 429 and "kilitlendi" in answer.text


def test_forms_without_the_csrf_token_are_refused(
    app: str, database: Database, seeded: dict[str, int]
) -> None:
    client, _ = login(app, "ayse")
    answer = client.post(f"/conversations/{seeded['faq']}/tags", data={"tag": "saldırı"})
    assert answer.status_code == 403 and "CSRF" in answer.text
    answer = client.post(
        f"/conversations/{seeded['faq']}/tags", data={"tag": "saldırı", "csrf": "tahmin"}
    )
    assert answer.status_code == 403
    assert "saldırı" not in review.get_conversation(database, seeded["faq"]).row.tags
    # The login form has its own token, bound to a cookie.
    fresh = httpx.Client(base_url=app)
    answer = fresh.post("/login", data={"username": "ayse", "password": PASSWORD})
    assert answer.status_code == 403


def test_staff_tag_note_and_mark_reviewed(
    app: str, database: Database, seeded: dict[str, int]
) -> None:
    client, csrf = login(app, "ayse")
    base = f"/conversations/{seeded['faq']}"
    assert client.post(f"{base}/tags", data={"tag": "ücret", "csrf": csrf}).status_code == 303
    client.post(f"{base}/notes", data={"note": "Cevap doğru.", "csrf": csrf})
    client.post(f"{base}/reviewed", data={"reviewed": "1", "csrf": csrf})
    view = review.get_conversation(database, seeded["faq"])
    assert view.row.tags == ("ücret",) and view.row.reviewed
    assert [(n.author, n.text) for n in view.notes] == [("ayse", "Cevap doğru.")]
    page = client.get(base).text
    assert "Cevap doğru." in page and "payment_date" in page and "utter_thank" in page


def test_only_an_admin_may_delete_a_conversation(
    app: str, database: Database, seeded: dict[str, int]
) -> None:
    reviewer, csrf = login(app, "ayse")
    answer = reviewer.post(f"/conversations/{seeded['old']}/delete", data={"csrf": csrf})
    assert answer.status_code == 403 and "yöneticilere" in answer.text
    assert review.get_conversation(database, seeded["old"]) is not None
    admin, csrf = login(app, "mehmet")
    assert (
        admin.post(f"/conversations/{seeded['old']}/delete", data={"csrf": csrf}).status_code == 303
    )
    assert review.get_conversation(database, seeded["old"]) is None


def test_html_in_user_messages_is_shown_as_text(app: str, database: Database) -> None:
    conversation = seed_conversation(
        database,
        "rest:xss",
        NOW,
        [Said('<script>alert("x")</script><img src=x onerror=alert(1)>', "nlu_fallback", 0.1)],
    )
    client, _ = login(app, "ayse")
    for path in (f"/conversations/{conversation}", "/misunderstood"):
        page = client.get(path).text
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page


def test_list_page_filters_and_exports(app: str, seeded: dict[str, int]) -> None:
    client, _ = login(app, "ayse")
    page = client.get("/conversations", params={"misunderstood": "1"}).text
    listed = {int(i) for i in re.findall(r'<tr data-id="(\d+)">', page)}
    assert listed == {seeded["fallback"], seeded["low"]}
    exported = client.get("/export/conversations.json", params={"channel": "tg"}).json()
    assert {c["id"] for c in exported} == {seeded["faq"], seeded["old"]}
    assert exported[-1]["messages"][0]["text"] == "Merhaba"
    csv_text = client.get(f"/conversations/{seeded['faq']}/export.csv").text
    assert csv_text.splitlines()[0].startswith("conversation_id,sender_id,channel")
    assert "staj ücreti ne zaman yatar" in csv_text


def test_a_correction_through_the_app_reaches_the_export(
    app: str, database: Database, seeded: dict[str, int]
) -> None:
    client, csrf = login(app, "ayse")
    message = review.get_conversation(database, seeded["fallback"]).messages[0]
    answer = client.post(
        f"/messages/{message.id}/correction",
        data={"topic": "out_of_scope", "csrf": csrf, "next": "/misunderstood"},
    )
    assert answer.status_code == 303
    bad = client.post(f"/messages/{message.id}/correction", data={"topic": "uydurma", "csrf": csrf})
    assert bad.status_code == 400
    exported = client.get("/export/nlu.yml").text
    assert "- intent: out_of_scope" in exported and "kpss puanım yeterli mi acaba" in exported


def test_dashboard_data(app: str, seeded: dict[str, int]) -> None:
    client, _ = login(app, "ayse")
    data = client.get("/api/dashboard").json()
    assert sum(data["conversations_per_day"]) == 4  # the 40-day-old one is outside
    assert data["linked"] == {"linked": 1, "anonymous": 3}
    assert {c["channel"]: c["count"] for c in data["channels"]} == {
        "tg": 1,
        "rest": 1,
        "web-anon": 1,
        "web": 1,
    }
    assert {t["key"] for t in data["top_topics"]} == {"payment_date", "insurance_who"}
    assert client.get("/static/vendor/chart.umd.min.js").status_code == 200


# --- command line --------------------------------------------------------------------------


def _cli(database: Database, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    url = database.engine.url.render_as_string(hide_password=False)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        text=True,
        capture_output=True,
        env={**os.environ, "DATABASE_URL": url},
        cwd=PROJECT_ROOT,
        timeout=300,
    )


def test_staff_accounts_purge_and_export_from_the_command_line(
    database: Database, seeded: dict[str, int], tmp_path
) -> None:
    added = _cli(
        database,
        "staff",
        "add",
        "zeynep",
        "--role",
        "admin",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert added.returncode == 0, added.stderr
    assert staff.authenticate(database, "zeynep", PASSWORD, NOW).is_admin
    short = _cli(
        database, "staff", "add", "can", "--role", "reviewer", "--password-stdin", stdin="kısa\n"
    )
    assert short.returncode == 1 and "en az 10 karakter" in short.stderr

    purged = _cli(database, "purge-transcripts", "--older-than", "30d")
    assert purged.returncode == 0, purged.stderr
    assert review.get_conversation(database, seeded["old"]) is None
    assert review.get_conversation(database, seeded["faq"]) is not None

    message = review.get_conversation(database, seeded["fallback"]).messages[0]
    review.set_correction(database, message.id, "out_of_scope", None, 1, NOW)
    output = tmp_path / "corrections.yml"
    exported = _cli(database, "export-nlu", "--output", str(output))
    assert exported.returncode == 0, exported.stderr
    assert yaml.safe_load(output.read_text(encoding="utf-8"))["nlu"] == [
        {"intent": "out_of_scope", "examples": "- kpss puanım yeterli mi acaba\n"}
    ]


def test_unknown_pages_and_conversations_get_a_turkish_answer(app: str) -> None:
    client, csrf = login(app, "ayse")
    for path in ("/conversations/99999", "/yok", "/conversations/abc"):
        answer = client.get(path)
        assert answer.status_code == 404 and "Sayfa bulunamadı." in answer.text
    answer = client.post("/conversations/99999/tags", data={"tag": "x", "csrf": csrf})
    assert answer.status_code == 404 and "Traceback" not in answer.text
    answer = client.post("/conversations/1/notes", data={"note": "x" * 100_000, "csrf": csrf})
    assert answer.status_code == 413 and "çok büyük" in answer.text


def test_the_running_app_purges_old_conversations_at_start(database: Database) -> None:
    old = seed_conversation(
        database, "rest:old", NOW - dt.timedelta(days=200), [Said("eski soru", "greet", 0.9)]
    )
    recent = seed_conversation(
        database, "rest:new", NOW - dt.timedelta(days=2), [Said("yeni soru", "greet", 0.9)]
    )
    with serving(database, purge_daily=True):
        assert review.get_conversation(database, old) is None
        assert review.get_conversation(database, recent) is not None


def test_button_payloads_are_not_exported(database: Database) -> None:
    conversation = seed_conversation(
        database, "rest:p", NOW, [Said("/none_of_these", "none_of_these", 1.0)]
    )
    message = review.get_conversation(database, conversation).messages[0]
    staff_id = staff.add_staff(database, "ayse", PASSWORD, StaffRole.REVIEWER, NOW)
    review.set_correction(database, message.id, "human_handoff", None, staff_id, NOW)
    text, count = export_yaml(database)
    assert count == 0 and "none_of_these" not in text


def test_a_pressed_topic_button_counts_for_its_faq_topic(database: Database) -> None:
    press = {
        "event": "user",
        "timestamp": NOW.timestamp(),
        "text": '/choose_faq{"faq_key":"program_period"}',
        "parse_data": {
            "intent": {"name": "choose_faq", "confidence": 1.0},
            "entities": [{"entity": "faq_key", "value": "program_period"}],
        },
    }
    review.record_events(database, "rest:b", [press])
    assert len(_ids(database, topic="faq/program_period")) == 1
    message = review.get_conversation(database, next(iter(_ids(database)))).messages[0]
    assert (message.intent, message.faq_key) == ("choose_faq", "program_period")
