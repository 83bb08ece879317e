"""Which of a student's offers a message names: company names with Turkish suffixes and typos."""

from __future__ import annotations

import dataclasses

import pytest

from actions.offers import offers_named_in
from tests.test_stipend import internship

ATLAS = internship(50)
MAVI = dataclasses.replace(ATLAS, offer_id=2, employer_name="Mavi Enerji Ltd. Şti. 2")
ATLAS_GIDA = dataclasses.replace(ATLAS, offer_id=3, employer_name="Atlas Gıda A.Ş. 7")
OWN = [ATLAS, MAVI, ATLAS_GIDA]


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("Atlas'taki teklifimin detayları", [ATLAS, ATLAS_GIDA]),
        ("atlastaki teklifin ayrintilari", [ATLAS, ATLAS_GIDA]),
        ("ATLAS GIDA teklifi hangi şehirde", [ATLAS_GIDA]),
        ("Atlas Yazılım'ın teklifi", [ATLAS]),
        ("mavi enerjiden gelen teklif", [MAVI]),
        ("MAVİ teklifim", [MAVI]),
        ("teklifimin detaylarını göster", []),
        ("Ltd. Şti. teklifim", []),  # legal forms name nobody
        ("Poyraz teklifim", []),
    ],
)
def test_the_named_employers_offers_are_found(message: str, expected: list) -> None:
    assert offers_named_in(message, OWN) == expected
