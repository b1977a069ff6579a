"""Runs the fake KIE server (devtools/fake_kie/) in the foreground."""

import json

from django.core.management.base import BaseCommand

from devtools.fake_kie import DEFAULTS, FakeKie


class Command(BaseCommand):
    help = "Run a fake KIE server speaking KIE's API, callbacks and file downloads (for make run and tests)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8001)
        for knob, default in DEFAULTS.items():
            kind = type(default)
            if kind is bool:
                parser.add_argument(
                    f"--{knob.replace('_', '-')}", dest=knob, action="store_true", default=default
                )
            else:
                parser.add_argument(f"--{knob.replace('_', '-')}", dest=knob, type=kind, default=default)

    def handle(self, *args, host, port, **options):
        config = {knob: options[knob] for knob in DEFAULTS}
        server = FakeKie(host=host, port=port, **config)
        self.stdout.write(f"fake KIE listening on {server.base_url} (files from {server.url}/files/)")
        self.stdout.write("knobs: " + json.dumps(config))
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.httpd.server_close()
