"""Every error code the code base can answer is in the one registry (aiasmr.api.exceptions.ERROR_CODES), with
the status it is answered with, and the OpenAPI error responses are generated from that registry."""

import ast
import importlib
from pathlib import Path

import pytest
from drf_spectacular.generators import SchemaGenerator

from aiasmr.api import exceptions
from aiasmr.api.exceptions import ERROR_CODES, ApiError, Conflict, NotFound, error_code
from aiasmr.api.middleware import _DEFAULT_ERROR_CODES
from aiasmr.api.schema import COMMON_ERRORS, documented_codes, error_response

ROOT = Path(__file__).resolve().parents[2]
SKIPPED_DIRS = {"tests", "migrations", "bench", "node_modules", "media", "staticfiles"}


def project_modules() -> dict[str, ast.Module]:
    trees = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).parts
        if any(part in SKIPPED_DIRS or part.startswith(".") for part in parts):
            continue
        module = ".".join(parts)[: -len(".py")].removesuffix(".__init__")
        trees[module] = ast.parse(path.read_text(), filename=str(path))
    return trees


def api_error_classes() -> dict[str, type[ApiError]]:
    """Every ApiError subclass defined in the project (its modules imported), by class name."""
    found, todo = {}, [ApiError]
    while todo:
        cls = todo.pop()
        found[cls.__name__] = cls
        todo.extend(cls.__subclasses__())
    return found


@pytest.fixture(scope="module")
def raised():
    """(module, line, code, class) for every code literal the code base gives an ApiError: a class's own
    `code = "..."`, `SomeError(..., code="...")`, and `("CODE", SomeError)` pairs of a code table."""
    trees = project_modules()
    for module, tree in trees.items():
        if any(isinstance(node, ast.Name) and node.id in ("ApiError", "ProviderError") for node in ast.walk(tree)):
            importlib.import_module(module)
    classes = api_error_classes()
    found = []
    for module, tree in trees.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", getattr(node.func, "attr", None))
                for keyword in node.keywords:
                    if name in classes and keyword.arg == "code" and isinstance(keyword.value, ast.Constant):
                        found.append((module, node.lineno, keyword.value.value, classes[name]))
            elif isinstance(node, ast.ClassDef) and node.name in classes:
                for statement in node.body:
                    target = statement.targets[0] if isinstance(statement, ast.Assign) else None
                    if getattr(target, "id", None) == "code" and isinstance(statement.value, ast.Constant):
                        found.append((module, statement.lineno, statement.value.value, classes[node.name]))
            elif isinstance(node, ast.Tuple) and len(node.elts) == 2:
                code, cls = node.elts
                if isinstance(code, ast.Constant) and getattr(cls, "id", None) in classes:
                    found.append((module, node.lineno, code.value, classes[cls.id]))
    return found


def test_the_scan_sees_the_codes_of_every_kind_of_raise(raised):
    codes = {code for _, _, code, _ in raised}
    # A class attribute, a code= keyword in billing and accounts, and a (code, class) table entry (KIE).
    assert {"INVALID_SIGNATURE", "ORDER_NOT_FOUND", "PASSWORD_CHANGE_FAILED", "PROMPT_REJECTED"} <= codes
    assert len(raised) > 50


def test_every_raised_code_is_registered_with_the_status_it_is_answered_with(raised):
    unregistered = [(module, line, code) for module, line, code, _ in raised if code not in ERROR_CODES]
    assert unregistered == []
    wrong_status = [
        (module, line, code, cls.status_code)
        for module, line, code, cls in raised
        if cls.status_code not in ERROR_CODES[code].statuses
    ]
    assert wrong_status == []


def test_every_registered_code_is_answered_somewhere(raised):
    answered = {code for _, _, code, _ in raised} | set(_DEFAULT_ERROR_CODES.values())
    assert set(ERROR_CODES) - answered == set()


def test_the_middleware_wraps_each_status_in_a_code_registered_for_it():
    for status, code in _DEFAULT_ERROR_CODES.items():
        assert status in error_code(code).statuses, code


def test_an_error_class_takes_its_status_and_message_from_the_registry():
    assert (NotFound.status_code, NotFound.default_message) == (404, ERROR_CODES["NOT_FOUND"].message)
    assert Conflict("x", code="ORDER_NOT_PAYABLE").status_code == ERROR_CODES["ORDER_NOT_PAYABLE"].status


def test_an_error_class_with_an_unregistered_code_or_another_status_is_refused():
    with pytest.raises(KeyError, match="NOT_A_REGISTERED_CODE"):
        type("Unregistered", (ApiError,), {"code": "NOT_A_REGISTERED_CODE"})
    with pytest.raises(TypeError, match="registered with status 404"):
        type("WrongStatus", (ApiError,), {"code": "ORDER_NOT_FOUND", "status_code": 400})
    assert exceptions.ERROR_CODES is ERROR_CODES


def test_error_responses_name_registered_codes_only():
    assert documented_codes("VALIDATION_ERROR (details: [{field, message}]), INVALID_JSON") == (
        "VALIDATION_ERROR",
        "INVALID_JSON",
    )
    with pytest.raises(KeyError, match="NO_SUCH_CODE"):
        error_response("NO_SUCH_CODE")
    assert COMMON_ERRORS[400] == "VALIDATION_ERROR (details: [{field, message}]), INVALID_JSON, NUMBER_OUT_OF_RANGE"


@pytest.mark.django_db
def test_the_schema_error_examples_come_from_the_registry():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    documented = 0
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if not status.startswith(("4", "5")):
                    continue
                codes = documented_codes(response["description"])
                examples = response["content"]["application/json"]["examples"]
                errors = [example["value"]["error"] for example in examples.values()]
                assert [error["code"] for error in errors] == list(codes), (method, path, status)
                for error in errors:
                    entry = ERROR_CODES[error["code"]]
                    assert error["message"] == entry.message
                    assert int(status) in entry.statuses, (method, path, status, entry.code)
                documented += 1
    assert documented > 40
    subscribe = schema["paths"]["/api/billing/subscription"]["post"]["responses"]["409"]
    assert documented_codes(subscribe["description"]) == ("SUBSCRIPTION_EXISTS", "TRIAL_ALREADY_USED")
