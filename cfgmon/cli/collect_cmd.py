"""`cfgmon collect`."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from cfgmon.aws.defaults import DEFAULT_CONCURRENCY, DEFAULT_POOL_CONNECTIONS, DEFAULT_ROLE_NAME
from cfgmon.cli.common import EXIT_NOT_ALL_OK, DbOption
from cfgmon.cli.progress import scope_progress
from cfgmon.errors import UsageError
from cfgmon.shards import parse_shard
from cfgmon.store import collecting_database, resolve_db_path
from cfgmon.text import counted

if TYPE_CHECKING:
    from cfgmon.aws import CollectionReport


def register(app: typer.Typer) -> None:
    app.command("collect")(collect_command)


def collect_command(
    db: DbOption = None,
    region: Annotated[
        list[str] | None,
        typer.Option(
            "--region",
            help="Region to collect, in any case; several separated by commas, or repeat "
            "the option [default: every region enabled in the account].",
            show_default=False,
        ),
    ] = None,
    profile: Annotated[
        str | None, typer.Option("--profile", help="AWS profile to use [default: boto3's chain].")
    ] = None,
    endpoint_url: Annotated[
        str | None,
        typer.Option(
            "--endpoint-url",
            help="Send every AWS call to this endpoint (e.g. a moto server); "
            "AWS_ENDPOINT_URL works too.",
        ),
    ] = None,
    concurrency: Annotated[
        int,
        typer.Option(
            "--concurrency",
            help="AWS requests in flight at once, over all accounts, regions and services.",
        ),
    ] = DEFAULT_CONCURRENCY,
    processes: Annotated[
        int | None,
        typer.Option(
            "--processes",
            help="Processes that make the AWS calls, the accounts dealt among them; 1 "
            "collects in this process alone [default: the CPU cores cfgmon may use, one "
            "per 25 accounts at most].",
            show_default=False,
        ),
    ] = None,
    account: Annotated[
        list[str] | None,
        typer.Option(
            "--account",
            help="Account to collect by assuming --role-name in it; repeat for several "
            "(the caller's own account uses its own credentials). With --organization: "
            "only these accounts of the organisation.",
            show_default=False,
        ),
    ] = None,
    organization: Annotated[
        bool,
        typer.Option(
            "--organization",
            help="Collect every ACTIVE account of the caller's AWS organisation (run from "
            "the management account or a delegated administrator).",
        ),
    ] = False,
    role_name: Annotated[
        str | None,
        typer.Option(
            "--role-name",
            help=f"Role assumed in each account of --account or --organization "
            f"[default: {DEFAULT_ROLE_NAME}].",
            show_default=False,
        ),
    ] = None,
    shard: Annotated[
        str | None,
        typer.Option(
            "--shard",
            metavar="K/N",
            help="With --organization: collect only the K-th of N disjoint, stable slices "
            "of the organisation's accounts (and its management account), so N machines "
            "collect in parallel; export each into one Parquet lake.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Copy CloudTrail, CloudWatch Logs, CloudWatch alarm and SNS inventory into the database.

    Exit code 0 when every scope was collected, 1 when some failed (their errors are
    recorded and summarised; earlier rows are kept), 2 on bad input, 130/143 when
    interrupted by SIGINT/SIGTERM.

    Example: cfgmon collect --region eu-west-1,us-east-1 --db inventory.duckdb

    Example: cfgmon collect --organization --role-name OrganizationAccountAccessRole

    Example: cfgmon collect --organization --shard 2/3 --db shard-2.duckdb
    """
    # botocore: imported by the one command that talks to AWS
    from cfgmon.aws import (
        ApiCallCounter,
        ClientFactory,
        SessionRecipe,
        account_targets,
        build_session,
        caller_target,
        collect,
        default_processes,
        organization_targets,
        record_shard,
    )
    from cfgmon.aws.regions import parse_regions
    from cfgmon.aws.targets import check_account_ids, check_role_name

    if concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    if processes is not None and processes < 1:
        raise UsageError("--processes must be at least 1")
    if shard is not None and not organization:
        raise UsageError("--shard needs --organization")
    slice_ = parse_shard(shard) if shard is not None else None
    if role_name is not None and not (account or organization):
        raise UsageError("--role-name needs --account or --organization")
    regions = parse_regions(region) if region else None
    check_account_ids(account or ())
    role_name = check_role_name(role_name or DEFAULT_ROLE_NAME)
    # Settings first: a usage error must not create a database file.
    session = build_session(profile)
    clients = ClientFactory(endpoint_url=endpoint_url,
                            max_pool_connections=max(concurrency, DEFAULT_POOL_CONNECTIONS))
    path = resolve_db_path(db)
    # The database is opened before the first AWS call, so that one in use or damaged
    # is reported at once; a new one is removed again if the collection cannot start.
    with collecting_database(path) as con:
        setup_counter = ApiCallCounter()
        caller = caller_target(session, clients, setup_counter)
        if organization:
            plan = organization_targets(caller, clients, setup_counter, role_name, account or (),
                                        shard=slice_)
            targets = plan.targets
            _print_inactive(plan.inactive)
            if slice_ is not None:
                record_shard(con, plan)
        elif account:
            targets = account_targets(caller, account, role_name)
        else:
            targets = [caller]
        with scope_progress() as progress:
            report = collect(
                con,
                targets,
                clients=clients,
                regions=regions,
                concurrency=concurrency,
                progress=progress,
                setup_counter=setup_counter,
                processes=processes or default_processes(len(targets)),
                caller=SessionRecipe(profile),
            )
    _print_summary(report, path)
    if report.partial:
        raise typer.Exit(EXIT_NOT_ALL_OK)


def _print_inactive(inactive: list[tuple[str, str]]) -> None:
    if inactive:
        listed = ", ".join(f"{account_id} ({state})" for account_id, state in inactive)
        print(f"not collected, not ACTIVE in the organisation: {listed}", file=sys.stderr)


def _accounts_text(accounts: list[str]) -> str:
    if len(accounts) == 1:
        return f"account {accounts[0]}"
    if len(accounts) <= 5:
        return f"{counted(len(accounts), 'account')}: {', '.join(accounts)}"
    return counted(len(accounts), "account")


def _print_summary(report: CollectionReport, path) -> None:
    calls = sum(report.api_calls().values())
    regions = sorted({r for rs in report.regions.values() for r in rs})
    print(
        f"collected {counted(len(report.outcomes), 'scope')} ({counted(len(regions), 'region')}, "
        f"{_accounts_text(report.accounts)}) into {path}: "
        f"{report.count('ok')} ok, {report.count('error')} failed, "
        f"{report.count('skipped')} skipped; {counted(calls, 'API call')} in "
        f"{report.elapsed_seconds:.1f}s",
        file=sys.stderr,
    )
    for failure in report.account_failures:
        print(
            f"  error: account {failure.account_id} not collected: {failure.code}: "
            f"{_first_line(failure.message)}",
            file=sys.stderr,
        )
    # One line per region and failure, naming the services it hit.
    failures: dict[tuple, list[str]] = {}
    for outcome in report.outcomes:
        failure = outcome.failure
        if failure is not None:
            key = (outcome.status, outcome.scope.account_id, outcome.scope.region,
                   failure.error_code, _first_line(failure.error_message))
            where = outcome.scope.service
            if failure.error_operation:
                where += f" ({failure.error_operation})"
            failures.setdefault(key, []).append(where)
    for (status, account, region, code, message), services in failures.items():
        account_part = f"{account} " if len(report.accounts) > 1 else ""
        print(
            f"  {status}: {account_part}{region} {', '.join(services)}: {code}: {message}",
            file=sys.stderr,
        )


def _first_line(text: str | None) -> str:
    return (text or "").strip().splitlines()[0] if (text or "").strip() else ""
