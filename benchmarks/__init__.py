"""Benchmarks for ``make bench``: submission load, duplicate storm, report scaling, export memory.

Run them all with ``python -m benchmarks.run``; see ``benchmarks/README.md``.
"""
