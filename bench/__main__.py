"""`python -m bench`: every benchmark at small sizes, one table (see bench/run_all.py)."""

from __future__ import annotations

from bench.run_all import main

main()
