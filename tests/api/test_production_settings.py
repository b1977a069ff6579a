"""Production mode refuses to start misconfigured and passes `check --deploy` when configured."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def manage(*args, **env_overrides):
    env = {key: value for key, value in os.environ.items() if not key.startswith(("R2_", "DJANGO_", "SECRET", "JWT", "ALLOWED", "DATABASE_URL"))}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def production_env(**overrides):
    env = {
        "DJANGO_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "JWT_SECRET": secrets.token_urlsafe(40),
        "ALLOWED_HOSTS": "api.example.com",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/aiasmr",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "R2_ACCOUNT_ID": "account",
        "R2_ACCESS_KEY_ID": "key",
        "R2_SECRET_ACCESS_KEY": "secret",
        "R2_BUCKET_NAME": "bucket",
        "PAYMENT_PROVIDER": "stripe",
        "STRIPE_SECRET_KEY": "sk_test_x",
        "STRIPE_WEBHOOK_SECRET": "whsec_x",
        "STRIPE_PUBLISHABLE_KEY": "pk_test_x",
    }
    env.update(overrides)
    return {key: value for key, value in env.items() if value is not None}


def test_check_deploy_is_clean_when_configured():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **production_env())
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
    assert "WARNING" not in result.stderr


@pytest.mark.parametrize("missing", ["SECRET_KEY", "JWT_SECRET", "ALLOWED_HOSTS", "DATABASE_URL", "R2_BUCKET_NAME"])
def test_production_refuses_to_start_without(missing):
    result = manage("check", **production_env(**{missing: None}))
    assert result.returncode != 0
    assert "refuses to start" in result.stderr


def test_production_refuses_the_development_secret():
    from aiasmr.settings import DEV_SECRET_KEY

    result = manage("check", **production_env(SECRET_KEY=DEV_SECRET_KEY))
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
