"""Builders that `aiasmr/settings.py` calls: reading the environment, and the settings whose shape
depends on it (database, cache, storage, logging, the production guard). Settings stay in one module;
the logic that assembles them lives here so that module stays a list of knobs."""
