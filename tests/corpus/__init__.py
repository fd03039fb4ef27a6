"""Hostile and broken submissions, as data (see cases.py)."""
