"""Development-only code, left out of the production image: the fake KIE server (`manage.py fake_kie`).

It may import the apps; no app imports it. Settings install it only outside production, when present.
"""
