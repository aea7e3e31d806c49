"""Helpers of ``bench/csms.py``: the station load generator, the servers under test, /proc sampling.

The server scripts (``reference_server.py``, ``floor_server.py``) run as ``python -m
csmsbench.<name>`` with ``bench/`` on the path; ``bench/csms.py`` starts them that way.
"""
