"""Numbers as Express computed them."""

import math


def math_round(value: float) -> int:
    """JavaScript's Math.round: halves up (Python's round() sends halves to the even neighbour: 12.5 -> 12)."""
    return math.floor(value + 0.5)
