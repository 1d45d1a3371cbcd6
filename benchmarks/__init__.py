"""Benchmarks of `vzaps_async` against raw aiohttp and the official `vzaps` SDK (``make bench``).

Run ``python -m benchmarks --help``. Every client variant runs in its own fresh subprocess
(``python -m benchmarks._variant``) against a simulator in another process, so the CPU time and
the memory reported belong to one client alone.
"""
