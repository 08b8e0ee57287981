"""The offline tooling: the mock harness, the plan and change preview, their file readers.

Nothing here is needed by `pulumi up`; `plan.py` is its command line. Importing the package
imports nothing (the benchmark floor runs an empty program under `harness` alone).
"""
