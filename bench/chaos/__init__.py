"""The chaos soak's parts; bench/soak.py is the entry point that runs them.

common: shared paths and helpers; cluster: the private PostgreSQL and the service's processes;
clients: the randomized client operations; faults: fault injection and staff refunds; proof: the final checks.
"""
