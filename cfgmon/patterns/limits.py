"""Limits AWS documents for filter patterns; violating one is an error, never "no match".

Sources: the CloudWatch Logs API model (filterPattern length) and the AWS page
"Filter pattern syntax for metric filters, subscription filters, filter log events,
and Live Tail" (wildcard selector and regex quotas, the regex character set).
"""

from __future__ import annotations

import string

# PutMetricFilter / TestMetricFilter: filterPattern "Maximum length of 1024".
MAX_PATTERN_LENGTH = 1024

# "You can only use up to one wildcard selector in a property selector, and up to
# three wildcard selectors in a filter pattern with compound expressions."
MAX_WILDCARDS_PER_SELECTOR = 1
MAX_WILDCARD_SELECTORS = 3

# "There is a limit of 2 regex for each filter pattern."
MAX_REGEXES = 2

# Characters a %regex% may hold: alphanumerics, the listed symbols and operators.
# "(" and ")" and multi-byte characters are not supported.
REGEX_SYMBOLS = frozenset(":_#=@/;,-")
REGEX_OPERATORS = frozenset("^$?[]{}|\\*+.")
REGEX_ALPHANUMERICS = frozenset(string.ascii_letters + string.digits)
REGEX_CLASS_ESCAPES = frozenset("dDsSwW")  # \d \D \s \S \w \W
REGEX_HEX_ESCAPE = "x"  # \xhh, "the ASCII mapping for a two-digit hexadecimal character"
