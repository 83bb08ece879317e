"""The review app in headless chromium: log in, filter, correct, export, see the dashboard."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.config import PROJECT_ROOT
from bot.db.models import StaffRole
from bot.db.session import Database
from tests.review_helpers import NOW, PASSWORD, Said, add_staff, seed_conversation, serving

SCREENSHOT = PROJECT_ROOT / "var" / "review-dashboard.png"


def _seed_month(db: Database) -> int:
    """Conversations over two weeks; returns the id of a fallback one."""
    topics = ["payment_date", "insurance_who", "program_period", "payment_date"]
    channels = ["tg:1", "web:2", "web-anon:a", "rest:b"]
    for day in range(14):
        for n in range(day % 4 + 1):
            started = NOW - dt.timedelta(days=day, hours=n)
            seed_conversation(
                db,
                f"{channels[(day + n) % 4]}{day}{n}",
                started,
                [Said("staj ücreti ne zaman yatar", "faq", 0.9, topics[(day + n) % 4])],
            )
    return seed_conversation(
        db,
        "rest:kpss",
        NOW - dt.timedelta(minutes=5),
        [
            Said("kpss puanım yeterli mi", "nlu_fallback", 0.3, action="action_default_fallback"),
            Said("<b>tamam</b>", "acknowledge", 0.9, answer="Peki.", action="utter_acknowledge"),
        ],
    )


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_log_in_filter_correct_export_and_dashboard(database: Database, page, tmp_path) -> None:
    fallback = _seed_month(database)
    add_staff(database, "ayse", StaffRole.REVIEWER)
    with serving(database) as base:
        page.goto(f"{base}/conversations")
        assert page.url.endswith("/login")
        page.fill("input[name=username]", "ayse")
        page.fill("input[name=password]", PASSWORD)
        page.click("text=Giriş yap")
        page.wait_for_url(f"{base}/conversations")

        page.check("input[name=misunderstood]")
        page.click("text=Filtrele")
        page.wait_for_url("**misunderstood=1**")
        rows = page.locator("#conversation-list tbody tr")
        assert rows.count() == 1
        assert rows.first.get_attribute("data-id") == str(fallback)
        rows.first.locator("text=Aç").click()
        page.wait_for_url(f"{base}/conversations/{fallback}")
        assert page.locator(".msg.user .text").nth(1).inner_text() == "<b>tamam</b>"

        first = page.locator(".msg.user").first
        assert "nlu_fallback" in first.inner_text()
        first.locator("select[name=topic]").select_option("out_of_scope")
        first.locator("text=Onayla / düzelt").click()
        page.wait_for_load_state()
        assert "düzeltildi: out_of_scope" in page.locator(".msg.user").first.inner_text()

        with page.expect_download() as download_info:
            page.click("#export-nlu")
        exported = tmp_path / "nlu.yml"
        download_info.value.save_as(exported)
        text = exported.read_text(encoding="utf-8")
        assert "- intent: out_of_scope" in text and "kpss puanım yeterli mi" in text

        page.set_viewport_size({"width": 1280, "height": 1100})
        page.goto(f"{base}/dashboard")
        page.wait_for_selector("body[data-charts-ready='1']")
        assert page.locator("#dashboard-status").inner_text() == "Güncel."
        SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=True)
