"""Crosswalks: (source system, source id) <-> golden id, across every system."""
