"""The minimum internship stipend, by the rule the FAQ quotes.

3308 sayılı Mesleki Eğitim Kanunu, 25. madde (FAQ "Staj sonrasında ücret ödenecek mi?"): no
less than 30% of the net minimum wage at workplaces with twenty or more employees, 15% at
smaller ones. The wage itself is configuration (bot.config.NetMinimumWage).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

LARGE_WORKPLACE_EMPLOYEES = 20
LARGE_WORKPLACE_PERCENT = 30
SMALL_WORKPLACE_PERCENT = 15


def stipend_percent(employee_count: int) -> int:
    """The share of the net minimum wage an employer of this size must at least pay."""
    if employee_count >= LARGE_WORKPLACE_EMPLOYEES:
        return LARGE_WORKPLACE_PERCENT
    return SMALL_WORKPLACE_PERCENT


def minimum_stipend(employee_count: int, net_minimum_wage: Decimal) -> Decimal:
    """The lowest monthly stipend in lira, rounded to the kuruş."""
    amount = net_minimum_wage * stipend_percent(employee_count) / 100
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def format_lira(amount: Decimal) -> str:
    """Turkish money notation: 12.345,67 TL."""
    whole, _, kurus = f"{amount:,.2f}".partition(".")
    return f"{whole.replace(',', '.')},{kurus} TL"
