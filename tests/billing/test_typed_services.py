"""Every public service and selector of billing and credits takes keyword-only, annotated arguments."""

import inspect

import pytest

import billing.selectors
import billing.services
import credits.selectors
import credits.services


def public_functions():
    for name in billing.services.__all__:
        value = getattr(billing.services, name)
        if inspect.isfunction(value):
            yield f"billing.services.{name}", value
    for module in (billing.selectors, credits.services, credits.selectors):
        for name, value in vars(module).items():
            if inspect.isfunction(value) and not name.startswith("_") and value.__module__ == module.__name__:
                yield f"{module.__name__}.{name}", value


FUNCTIONS = dict(public_functions())


def test_the_services_and_selectors_are_all_seen():
    assert {"billing.services.purchase_create", "billing.services.order_refund", "credits.services.credits_spend",
            "credits.services.profile_lock", "billing.selectors.subscription_current",
            "credits.selectors.credits_usage"} <= set(FUNCTIONS)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_arguments_are_keyword_only_and_annotated(name):
    signature = inspect.signature(FUNCTIONS[name])
    for parameter in signature.parameters.values():
        assert parameter.kind is inspect.Parameter.KEYWORD_ONLY, f"{name}({parameter.name}) is not keyword-only"
        assert parameter.annotation is not inspect.Parameter.empty, f"{name}({parameter.name}) has no type"
    assert signature.return_annotation is not inspect.Signature.empty, f"{name} has no return type"
