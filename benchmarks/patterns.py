"""Benchmark: parse and evaluate 10,000 distinct realistic filter patterns against a
16-record CloudTrail catalogue, as coverage derivation does for a large inventory.

    .venv/bin/python benchmarks/patterns.py [--patterns N] [--seed S]

Prints patterns per second and the time taken. Target: the whole run within 2 s on
a 2-core machine.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import sys
import time
from pathlib import Path

START = time.perf_counter()
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cfgmon.patterns import LogEvent, PatternError, clear_caches, compile_pattern  # noqa: E402

WATCHED = [
    "StopConfigurationRecorder",
    "DeleteDeliveryChannel",
    "PutDeliveryChannel",
    "PutConfigurationRecorder",
]
OTHERS = ["StartConfigurationRecorder", "DeleteConfigurationRecorder", "PutConfigRule", "StopLogging",
          "DeleteTrail", "UpdateTrail", "PutBucketPolicy", "CreateNetworkAcl", "ConsoleLogin"]  # fmt: skip
IDENTITIES = ["IAMUser", "AssumedRole", "Root", "AWSService"]
REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "sa-east-1"]


def catalogue() -> list[str]:
    """16 CloudTrail records: every watched name, success and failure, varied callers."""
    records = []
    for number, (name, failed) in enumerate(itertools.product(WATCHED, (False, True, False, True))):
        identity = IDENTITIES[number % 4]
        record = {
            "eventVersion": "1.09",
            "userIdentity": {
                "type": identity,
                "principalId": f"AIDA{number:016d}",
                "arn": f"arn:aws:iam::111122223333:{identity.lower()}/user{number}",
                "accountId": "111122223333",
            },
            "eventTime": f"2026-11-03T10:{number:02d}:00Z",
            "eventSource": "config.amazonaws.com",
            "eventName": name,
            "awsRegion": REGIONS[number % 4],
            "sourceIPAddress": f"203.0.113.{number}",
            "userAgent": "aws-cli/2.17.20 Python/3.11.9 Linux/6.1 exe/x86_64.amzn.2023",
            "requestParameters": {
                "configurationRecorderName": "default",
                "deliveryChannelName": "default",
            },
            "responseElements": None,
            "requestID": f"eeee3183-69ca-47e7-5826-{number:012d}",
            "eventID": f"8dea3aa4-c08a-6073-52d0-{number:012d}",
            "readOnly": False,
            "eventType": "AwsApiCall",
            "managementEvent": True,
            "recipientAccountId": "111122223333",
            "eventCategory": "Management",
        }
        if failed:
            record["errorCode"] = "AccessDenied"
            record["errorMessage"] = "User is not authorized to perform this operation"
        records.append(json.dumps(record))
    return records


def _value(rng: random.Random, text: str) -> str:
    return f'"{text}"' if rng.random() < 0.5 else text


def json_pattern(rng: random.Random, n: int) -> str:
    """A CIS-like JSON pattern: some watched and other names, spacing, quoting, extras."""
    names = rng.sample(WATCHED, rng.randint(2, 4)) + rng.sample(OTHERS, rng.randint(0, 2))
    if rng.random() < 0.2:
        names[0] = names[0][: rng.randint(3, 8)] + "*"
    sp = rng.choice(["", " ", "  ", "\n  "])
    ops = []
    for name in names:
        clause = f"$.eventName{sp}={sp}{_value(rng, name)}"
        ops.append(f"({clause})" if rng.random() < 0.5 else clause)
    source = (
        f"$.eventSource{sp}={sp}{_value(rng, rng.choice(['config.amazonaws.com', 'config.*']))}"
    )
    parts = [source, "(" + f"{sp}||{sp}".join(ops) + ")"]
    extra = rng.random()
    if extra < 0.15:
        parts.append(f"$.userIdentity.type{sp}!={sp}{_value(rng, rng.choice(IDENTITIES))}")
    elif extra < 0.25:
        parts.append("$.errorCode NOT EXISTS")
    elif extra < 0.3:
        parts.append(
            f"$.awsRegion{sp}={sp}%^(us|eu)-%".replace("(", "").replace(")", "").replace("|", "-|^")
        )
    elif extra < 0.35:
        parts.append(f"$.requestParameters.*{sp}={sp}default")
    rng.shuffle(parts)
    tag = f"$.userIdentity.accountId{sp}!={sp}{n:012d}"  # makes every pattern distinct
    return "{" + sp + f"{sp}&&{sp}".join(parts + [tag]) + sp + "}"


def term_pattern(rng: random.Random, n: int) -> str:
    terms = [rng.choice(["config.amazonaws.com", '"config.amazonaws.com"'])]
    terms += [f"?{name}" for name in rng.sample(WATCHED, rng.randint(1, 4))]
    if rng.random() < 0.5:
        terms = [t.lstrip("?") for t in terms]
    return " ".join(terms + [f"-user{n}"])


def space_pattern(rng: random.Random, n: int) -> str:
    return f"[..., name = {rng.choice(WATCHED)}* || name = n{n}, ...]"


def patterns(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    makers = [json_pattern] * 8 + [term_pattern, space_pattern]
    out = [rng.choice(makers)(rng, n) for n in range(count)]
    assert len(set(out)) == count, "patterns must be distinct"
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patterns", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=49)
    args = parser.parse_args()

    records = catalogue()
    texts = patterns(args.patterns, args.seed)
    clear_caches()  # measure cold: nothing parsed or compiled yet

    began, began_cpu = time.perf_counter(), time.process_time()
    events = [LogEvent(record) for record in records]
    covering = invalid = 0
    for text in texts:
        try:
            answers = compile_pattern(text).matches_all(events)
        except PatternError:
            invalid += 1
            continue
        covering += all(answers)
    elapsed = time.perf_counter() - began
    cpu = time.process_time() - began_cpu
    # Freed here rather than at interpreter exit, where the garbage collector passes
    # of module teardown would make the same work several times slower.
    clear_caches()
    total = time.perf_counter() - START

    print(
        f"patterns: {len(texts):,} distinct ({invalid} invalid), catalogue: {len(events)} records"
    )
    print(f"covering the catalogue: {covering:,}")
    print(
        f"parse + evaluate: {elapsed:.3f} s ({cpu:.3f} s CPU), {len(texts) / elapsed:,.0f} patterns/s"
    )
    print(f"whole run (imports and generation included): {total:.3f} s")


if __name__ == "__main__":
    main()
