"""The business rules' packages and plans as data (the data migration seeds the same tables).

`catalog_ensure()` recreates missing rows without touching staff edits: used by tests whose
transactional flush empties the tables, and safe to run on a live database.
"""

from decimal import Decimal

from billing.models import CreditPackage, Plan

PACKAGES = [
    {"slug": "basic", "name": "Basic", "credits": 100, "price": "9.99", "savings_percent": 0, "popular": False},
    {"slug": "standard", "name": "Standard", "credits": 250, "price": "19.99", "savings_percent": 20, "popular": True},
    {"slug": "premium", "name": "Premium", "credits": 500, "price": "34.99", "savings_percent": 30, "popular": False},
    {"slug": "enterprise", "name": "Enterprise", "credits": 1000, "price": "59.99", "savings_percent": 40, "popular": False},
]

# Express's texts for its four packages (routes/credits.js GET /packages); a package staff add later gets
# package_description's fallback.
PACKAGE_DESCRIPTIONS = {
    "basic": "Perfect for trying out video generation",
    "standard": "Great for regular users",
    "premium": "Best value for frequent creators",
    "enterprise": "Maximum credits for power users",
}

PLANS = [
    {"slug": "trial", "name": "Trial", "price": "7.90", "credits_per_period": 100, "interval": "one_off",
     "max_quality": "720p", "commercial_use": False},
    {"slug": "basic", "name": "Basic", "price": "19.90", "credits_per_period": 300, "interval": "month",
     "max_quality": "720p", "commercial_use": True},
    {"slug": "pro", "name": "Pro", "price": "49.90", "credits_per_period": 1500, "interval": "month",
     "max_quality": "1080p", "commercial_use": True},
]


def package_description(package: CreditPackage) -> str:
    return PACKAGE_DESCRIPTIONS.get(package.slug) or f"{package.credits} credits"


def catalog_ensure() -> None:
    for position, row in enumerate(PACKAGES, start=1):
        defaults = {**row, "price": Decimal(row["price"]), "sort_order": position}
        CreditPackage.objects.get_or_create(slug=defaults.pop("slug"), defaults=defaults)
    for position, row in enumerate(PLANS, start=1):
        defaults = {**row, "price": Decimal(row["price"]), "sort_order": position}
        Plan.objects.get_or_create(slug=defaults.pop("slug"), defaults=defaults)
