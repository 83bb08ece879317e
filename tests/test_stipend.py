"""The minimum stipend rule and its configured wage."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from actions.stipend import stipend_line, wage_line
from bot import stipend
from bot.config import ConfigError, NetMinimumWage
from bot.db.models import OfferRank, OfferStatus, ProgramType
from bot.db.offers import Contact, OfferDetails
from tests.conftest import Environment


@pytest.mark.parametrize(("employees", "percent"), [(1, 15), (19, 15), (20, 30), (5000, 30)])
def test_twenty_employees_is_the_line_between_15_and_30_percent(
    employees: int, percent: int
) -> None:
    assert stipend.stipend_percent(employees) == percent


def test_amounts_are_rounded_to_the_kurus_and_written_the_turkish_way() -> None:
    assert stipend.minimum_stipend(20, Decimal("22104.67")) == Decimal("6631.40")
    assert stipend.minimum_stipend(3, Decimal("22104.67")) == Decimal("3315.70")
    assert stipend.format_lira(Decimal("6631.4")) == "6.631,40 TL"
    assert stipend.format_lira(Decimal("1234567.891")) == "1.234.567,89 TL"


def internship(employee_count: int) -> OfferDetails:
    contact = Contact("Ayşe Yetkili", "İK", "ik@ornek.example", "0312 000 00 00")
    return OfferDetails(
        1,
        "Atlas Yazılım A.Ş.",
        employee_count,
        ProgramType.INTERNSHIP,
        OfferRank.MAIN,
        OfferStatus.FINAL_APPROVAL,
        dt.date(2026, 7, 1),
        dt.date(2026, 7, 28),
        "Ankara",
        "",
        dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc),
        contact,
        contact,
    )


def test_without_a_configured_wage_the_answer_has_the_rate_but_no_amount() -> None:
    line = stipend_line(internship(12), None)
    assert line == (
        "• Atlas Yazılım A.Ş. (12 çalışan, yirmiden az personel): "
        "asgari ücretin net tutarının en az %15'i"
    )
    assert "TL" not in line
    assert "hesaplayamıyorum" in wage_line(None)


def test_with_a_configured_wage_the_amount_and_its_source_are_shown() -> None:
    wage = NetMinimumWage(Decimal("10000"), "Örnek kaynak", dt.date(2026, 1, 1))
    assert stipend_line(internship(45), wage).endswith("en az %30'u, yani aylık en az 3.000,00 TL")
    assert wage_line(wage) == (
        "Hesapta kullanılan net asgari ücret: 10.000,00 TL (Örnek kaynak, 01.01.2026 itibarıyla)."
    )


def test_the_wage_is_unset_by_default(environment: Environment) -> None:
    unset = environment.set(
        NET_MINIMUM_WAGE="", NET_MINIMUM_WAGE_SOURCE="", NET_MINIMUM_WAGE_DATE=""
    )
    assert unset.net_minimum_wage is None


@pytest.mark.parametrize(
    "values",
    [
        {"NET_MINIMUM_WAGE": "10000"},  # no source, no date
        {
            "NET_MINIMUM_WAGE": "on bin",
            "NET_MINIMUM_WAGE_SOURCE": "x",
            "NET_MINIMUM_WAGE_DATE": "2026-01-01",
        },
        {
            "NET_MINIMUM_WAGE": "10000",
            "NET_MINIMUM_WAGE_SOURCE": "x",
            "NET_MINIMUM_WAGE_DATE": "01.01.2026",
        },
        {
            "NET_MINIMUM_WAGE": "-5",
            "NET_MINIMUM_WAGE_SOURCE": "x",
            "NET_MINIMUM_WAGE_DATE": "2026-01-01",
        },
    ],
)
def test_an_incomplete_or_malformed_wage_stops_start_up(
    environment: Environment, values: dict[str, str]
) -> None:
    names = ("NET_MINIMUM_WAGE", "NET_MINIMUM_WAGE_SOURCE", "NET_MINIMUM_WAGE_DATE")
    with pytest.raises(ConfigError, match="NET_MINIMUM_WAGE"):
        environment.set(**{name: values.get(name, "") for name in names})
