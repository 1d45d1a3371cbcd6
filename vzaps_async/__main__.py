"""Run the command line with ``python -m vzaps_async``."""

from __future__ import annotations

from .cli import main

raise SystemExit(main())
