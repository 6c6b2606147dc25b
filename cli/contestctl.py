"""`contestctl`: create the first organiser and other accounts, verify the audit trail, from the shell."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from api.accounts import create_account
from api.errors import ApiError
from config import get_settings
from db.audit import AuditEntry, append_audit, verify_chain
from db.session import make_engine, make_sessionmaker
from domain.roles import Role

app = typer.Typer(help="ContestFlow organisers' command line.", no_args_is_help=True)
accounts = typer.Typer(help="Accounts.", no_args_is_help=True)
audit = typer.Typer(help="The audit trail.", no_args_is_help=True)
app.add_typer(accounts, name="accounts")
app.add_typer(audit, name="audit")
T = TypeVar("T")


def _run(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async def main() -> T:
        engine = make_engine(get_settings().effective_database_url)
        try:
            async with make_sessionmaker(engine)() as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(main())


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
    report = _run(verify_chain)
    if report.intact:
        typer.echo(f"audit trail intact: {report.records} records")
        return
    typer.echo(f"audit trail BROKEN at record {report.first_broken_seq}: {report.problem}", err=True)
    raise typer.Exit(1)


if __name__ == "__main__":
    app()
