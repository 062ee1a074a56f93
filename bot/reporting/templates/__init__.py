"""Jinja2 templates of the dashboard (a package so the templates ship as package data)."""
