"""Shared test support: in-memory fakes of the ports, the loopback stack of real servers, waiting.

On the import path through pytest's ``pythonpath = ["tests"]`` (pyproject.toml).
"""
