"""The other side of every wire: emulators of the services the product talks to.

Each subpackage is a faithful local stand-in (same paths, status codes, envelopes, signatures) that
the real clients talk to over loopback. The product never imports this package; only the sandbox
and ``golive emulate`` do (import-linter holds that rule).
"""
