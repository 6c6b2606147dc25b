"""`contestctl`: the organisers' command line. Bootstrap commands (the first accounts, registry imports, the audit
chain) work on the database directly; everything else goes through the API (cli/organiser.py) with an API key."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from cli import organiser
from domain.roles import Role

if TYPE_CHECKING:  # the database side is imported where it is used: API commands start in a fraction of a second
    from sqlalchemy.ext.asyncio import AsyncSession

    from api.bulk import BulkReport
    from checks.imports import ImportReport

app = typer.Typer(help="ContestFlow organisers' command line.", no_args_is_help=True, pretty_exceptions_enable=False)
accounts = typer.Typer(help="Accounts.", no_args_is_help=True)
audit = typer.Typer(help="The audit trail.", no_args_is_help=True)
app.add_typer(accounts, name="accounts")
app.add_typer(audit, name="audit")
registry = typer.Typer(help="The local credit registry (dishonest lists, organiser affiliates).", no_args_is_help=True)
imports = typer.Typer(help="Bulk imports.", no_args_is_help=True)
app.add_typer(registry, name="registry")
app.add_typer(imports, name="import")
app.add_typer(organiser.competitions, name="competitions")
app.add_typer(organiser.mails, name="mails")
audit.command("list")(organiser.audit_list)
app.command("project")(organiser.project_status)
T = TypeVar("T")


def _run(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from config import get_settings
    from db.session import make_engine, make_sessionmaker

    async def main() -> T:
        settings = get_settings()
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = make_engine(settings.effective_database_url)
        try:
            async with make_sessionmaker(engine)() as session:
                return await work(session)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(main())
    except (OperationalError, ProgrammingError) as exc:
        typer.echo(
            f"error: the database is not ready ({type(exc.orig).__name__}); run `make migrate` or `make run` "
            "first, or check CONTESTFLOW_DATABASE_URL",
            err=True,
        )
        raise typer.Exit(2) from exc


@accounts.command("create")
def create(
    username: Annotated[str, typer.Option(help="Sign-in name")],
    email: Annotated[str, typer.Option(help="Mail address")],
    role: Annotated[Role, typer.Option(help="organiser, track_group, judge, verifier or committee")] = Role.ORGANISER,
    display_name: Annotated[str, typer.Option(help="Name shown to others")] = "",
    track: Annotated[list[str] | None, typer.Option(help="Track code (track working groups; repeatable)")] = None,
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True, envvar="CONTESTFLOW_NEW_PASSWORD")
    ] = "",
) -> None:
    """Create an account directly in the database (use it for the first organiser)."""
    from api.accounts import create_account
    from api.errors import ApiError
    from db.audit import AuditEntry, append_audit

    async def work(session: AsyncSession) -> int:
        account = await create_account(
            session,
            username=username,
            display_name=display_name or username,
            email=email,
            role=role,
            password=password,
            tracks=track or [],
        )
        await append_audit(
            session,
            AuditEntry(
                actor="contestctl",
                role="cli",
                action="account.created",
                object_type="account",
                object_id=str(account.id),
                details={"role": role.value, "username": account.username},
            ),
        )
        await session.commit()
        return account.id

    try:
        account_id = _run(work)
    except ApiError as exc:
        typer.echo(f"error: {exc.zh} / {exc.en}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"created {role.value} account {username} (id {account_id})")


@audit.command("verify")
def verify() -> None:
    """Recompute the audit trail's hash chain; exit 1 naming the first broken record."""
    from db.audit import verify_chain

    report = _run(verify_chain)
    if report.intact:
        typer.echo(f"audit trail intact: {report.records} records")
        return
    typer.echo(f"audit trail BROKEN at record {report.first_broken_seq}: {report.problem}", err=True)
    raise typer.Exit(1)


def _table(path: Path) -> list[dict[str, str]]:
    from checks.tables import TableError, read_rows

    try:
        return read_rows(path.name, path.read_bytes())
    except (OSError, TableError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


def _registry_import(path: Path, listings: bool, replace: bool, dry_run: bool) -> None:
    from checks.imports import import_registry
    from db.audit import AuditEntry, append_audit

    rows = _table(path)

    async def work(session: AsyncSession) -> ImportReport:
        with typer.progressbar(length=len(rows), label="importing") as bar:
            report = await import_registry(
                session, rows, listings=listings, replace=replace, dry_run=dry_run, progress=bar.update
            )
        if not report.problems and not dry_run:
            await append_audit(
                session,
                AuditEntry(
                    "contestctl",
                    "cli",
                    f"registry.{path.stem}_imported",
                    "registry",
                    "listings" if listings else "affiliates",
                    details={"rows": report.rows, "imported": report.imported},
                ),
            )
            await session.commit()
        return report

    report = _run(work)
    for problem in report.problems:
        typer.echo(f"row {problem.row}: {problem.code}: {problem.message}", err=True)
    if report.problems:
        typer.echo(f"{len(report.problems)} problems; nothing imported", err=True)
        raise typer.Exit(1)
    typer.echo(f"{report.rows} rows checked" + ("" if dry_run else f", {report.imported} new entries imported"))


@registry.command("import-listings")
def import_listings(path: Path, replace: bool = False, dry_run: bool = False) -> None:
    """Dishonest-list entries from CSV/XLSX (credit_code, list_kind, name, source); all rows or none."""
    _registry_import(path, True, replace, dry_run)


@registry.command("import-affiliates")
def import_affiliates(path: Path, replace: bool = False, dry_run: bool = False) -> None:
    """Organiser-affiliation entries from CSV/XLSX (credit_code, name, note); all rows or none."""
    _registry_import(path, False, replace, dry_run)


@imports.command("registrations")
def import_registration_rows(
    path: Path,
    competition: Annotated[str, typer.Option(help="Competition code")],
    dry_run: Annotated[bool, typer.Option("--dry-run/--commit")] = True,
) -> None:
    """Registrations from CSV/XLSX, checked row by row with a progress bar; committed only if every row passes."""
    from api.bulk import import_registrations
    from checks.registry import make_registry
    from config import get_settings
    from config.temporal import connect_temporal
    from db.audit import AuditEntry
    from db.session import make_engine, make_sessionmaker
    from security.personal_data import PersonalDataCipher, load_key

    rows = _table(path)
    settings = get_settings()

    async def work(session: AsyncSession) -> BulkReport:
        client = await connect_temporal(settings, wait_seconds=0)  # a command says at once that Temporal is away
        cipher = PersonalDataCipher(load_key(settings.personal_data_key, settings.data_dir))
        sessions = make_sessionmaker(make_engine(settings.effective_database_url))
        registry_port = make_registry(settings.credit_registry_url, settings.credit_registry_token, sessions)
        actor = AuditEntry("contestctl", "cli", "", "", "", "cli")
        with typer.progressbar(length=len(rows), label="checking rows") as bar:
            return await import_registrations(
                session, client, registry_port, cipher, settings, competition, rows, actor, dry_run, progress=bar.update
            )

    report = _run(work)
    for result in report.refused:
        typer.echo(f"row {result.row}: {result.code}: {result.message}", err=True)
    if report.refused:
        typer.echo(f"{len(report.refused)} of {report.rows} rows refused; nothing imported", err=True)
        raise typer.Exit(1)
    done = [r.project_id for r in report.results if r.project_id]
    typer.echo(
        f"{report.rows} rows pass"
        + (" (dry run: nothing imported)" if dry_run else f"; registered {len(done)} projects")
    )


if __name__ == "__main__":
    app()
