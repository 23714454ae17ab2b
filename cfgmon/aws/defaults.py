"""The collector's defaults, apart from botocore so that the command line can show them
without importing it (only `cfgmon collect` talks to AWS)."""

# Requests in flight at once, over all processes. With 50 ms per request, 100
# accounts x 4 regions (benchmarks/collect.py, 2 cores shared with other work, load
# 4-6): in one process 32 took 10.3-10.4 s, 64 7.9-8.7 s, 128 8.4-10.3 s; in two
# processes 32 11.4-12.8 s, 64 9.0-9.5 s, 128 8.5 s. Past 64 the CPU, not the
# latency, bounds the run; 64 is the fastest in one process and within noise of the
# fastest in two. A scope makes one request at a time, so one account's region sees
# at most one request per service at once, whatever the concurrency.
DEFAULT_CONCURRENCY = 64

# Connections one shared client keeps open; more requests in flight at once than this
# open connections that are closed again after their request.
DEFAULT_POOL_CONNECTIONS = 64

# The role cfgmon assumes in each member account, as AWS Organizations creates it.
DEFAULT_ROLE_NAME = "OrganizationAccountAccessRole"
