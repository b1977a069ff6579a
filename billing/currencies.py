"""Amounts in a currency's minor units, as payment providers (Stripe's rules) send and expect them.

The one table of zero-decimal currencies: the providers convert prices with it and the webhooks convert
paid amounts back with it.
"""

from decimal import Decimal

# Stripe's zero-decimal currencies (docs.stripe.com/currencies#zero-decimal): the amount is in whole units.
ZERO_DECIMAL_CURRENCIES = frozenset({
    "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA",
    "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF",
})

# Stripe's special cases (docs.stripe.com/currencies#special-cases):
# - ISK is effectively zero-decimal but stays two-decimal in the API for backwards compatibility: 5 ISK is
#   500, and a charge must be a multiple of 100 (whole kronur), so a fractional ISK price is refused here.
# - HUF and TWD are zero-decimal for payouts only; charges, refunds and invoices are two-decimal amounts.
# - UGX is zero-decimal for charges (in the table above); its two-decimal rule concerns payouts, which
#   this project never creates.
WHOLE_UNITS_IN_TWO_DECIMALS = frozenset({"ISK"})


def minor_unit_factor(currency: str) -> int:
    """How many minor units make one unit of `currency` in provider amounts."""
    return 1 if currency.upper() in ZERO_DECIMAL_CURRENCIES else 100


def to_minor_units(amount: Decimal, currency: str) -> int:
    """A price in the provider's integer amount: 4.99 USD -> 499, 500 JPY -> 500, 5 ISK -> 500."""
    amount = Decimal(amount)
    if currency.upper() in WHOLE_UNITS_IN_TWO_DECIMALS and amount != amount.to_integral_value():
        raise ValueError(f"{currency.upper()} amounts are charged in whole units; {amount} is not.")
    return int((amount * minor_unit_factor(currency)).quantize(Decimal(1)))


def from_minor_units(amount: int, currency: str) -> Decimal:
    """A provider's integer amount as a price: 499 USD -> 4.99, 500 JPY -> 500, 500 ISK -> 5."""
    return Decimal(int(amount)) / minor_unit_factor(currency)
