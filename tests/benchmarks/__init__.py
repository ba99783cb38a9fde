"""Long-running checks of the whole system, run by hand (never collected by pytest):

    .venv/bin/python -m tests.benchmarks.soak --help
"""
