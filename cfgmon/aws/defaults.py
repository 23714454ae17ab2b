"""The collector's defaults, apart from botocore so that the command line can show them
without importing it (only `cfgmon collect` talks to AWS)."""

# Requests in flight at once, over all processes. With 50 ms per request, 100
# accounts x 4 regions (benchmarks/collect.py on 2 idle cores): in two processes 32
# took 9.7 s, 64 7.4 s, 128 6.7 s (1.45x, 1.36x, 1.44x the better bound); in one 32
# took 10.1 s, 64 and 128 9.4 s. Past 64 the CPU, not the latency, bounds the run;
# 64 is within the noise of the fastest and keeps fewer connections open. A scope
# makes one request at a time, so one account's region sees at most one request per
# service at once, whatever the concurrency.
DEFAULT_CONCURRENCY = 64

# Connections one shared client keeps open; more requests in flight at once than this
# open connections that are closed again after their request.
DEFAULT_POOL_CONNECTIONS = 64

# The role cfgmon assumes in each member account, as AWS Organizations creates it.
DEFAULT_ROLE_NAME = "OrganizationAccountAccessRole"
