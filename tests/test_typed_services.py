"""Every public service and selector takes keyword-only, annotated arguments and declares what it returns."""

import importlib
import inspect
import pkgutil

import pytest

# The write paths (services) and the reads that are more than a one-liner (selectors) of every app.
MODULES = (
    "accounts.services",
    "accounts.selectors",
    "credits.services",
    "credits.selectors",
    "billing.services",
    "billing.services.stores",
    "billing.selectors",
    "videos.services",
    "videos.selectors",
    "aiasmr.lifecycle.services",
    "aiasmr.lifecycle.selectors",
    "rewards.check_ins",
    "rewards.referrals",
    "rewards.selectors",
    "rewards.seed",
)


def _modules():
    for name in MODULES:
        module = importlib.import_module(name)
        yield module
        if hasattr(module, "__path__"):  # a package by concern: each of its modules
            for info in pkgutil.iter_modules(module.__path__):
                yield importlib.import_module(f"{name}.{info.name}")


def public_functions():
    for module in _modules():
        for name, value in vars(module).items():
            if inspect.isfunction(value) and not name.startswith("_") and value.__module__ == module.__name__:
                yield f"{module.__name__}.{name}", value


FUNCTIONS = dict(public_functions())


def test_the_services_and_selectors_are_all_seen():
    assert {
        "billing.services.orders.purchase_create",
        "billing.services.refunds.order_refund",
        "credits.services.credits_spend",
        "accounts.services.profile_lock",
        "billing.selectors.subscription_current",
        "credits.selectors.credits_usage",
        "videos.services.start.video_generation_start",
        "videos.services.sweep.generations_sweep",
        "aiasmr.lifecycle.services.account_delete",
    } <= set(FUNCTIONS)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_arguments_are_keyword_only_and_annotated(name):
    signature = inspect.signature(FUNCTIONS[name])
    for parameter in signature.parameters.values():
        assert parameter.kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.VAR_KEYWORD), (
            f"{name}({parameter.name}) is not keyword-only"
        )
        assert parameter.annotation is not inspect.Parameter.empty, f"{name}({parameter.name}) has no type"
    assert signature.return_annotation is not inspect.Signature.empty, f"{name} has no return type"
