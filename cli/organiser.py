"""`contestctl` organiser commands over the API: competitions, deadlines, the dashboard and what is late, exports,
the mail log with resends, and the audit log. Long operations show progress bars."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from cli.api_client import ApiClient, api_client

competitions = typer.Typer(help="Competitions and their calendars.", no_args_is_help=True)
mails = typer.Typer(help="The mail log.", no_args_is_help=True)
TABLES = ("first-round-ranking", "finalists", "final-ranking", "awards", "national-recommendations")


def _calendar(body: dict[str, Any]) -> None:
    typer.echo(f"{body['code']}  {body['name']}  ({body['timezone']}, calendar revision {body['calendar_revision']})")
    for window in body["calendar"]:
        typer.echo(f"  {window['stage']:<24} {window['opens_at']}  →  {window['closes_at']}")


@competitions.command("create")
def create(
    catalog: Annotated[str, typer.Argument(help="A catalog file (YAML/JSON) or a bundled catalog's name")],
    code: Annotated[str | None, typer.Option(help="The competition's code (default: the catalog's)")] = None,
    rehearsal_minutes: Annotated[
        float | None, typer.Option(help="A rehearsal copy: the whole calendar compressed into this many minutes")
    ] = None,
) -> None:
    """Create a competition from a catalog file, or a rehearsal copy of it with a compressed calendar."""
    path = Path(catalog)
    body: dict[str, Any] = (
        {"catalog_text": path.read_text(encoding="utf-8")} if path.is_file() else {"catalog": catalog}
    )
    if code:
        body["code"] = code
    if rehearsal_minutes is not None:
        body["rehearsal"] = {"season_minutes": rehearsal_minutes}
    with api_client() as api:
        _calendar(api.call("POST", "/competitions", json=body))


@competitions.command("show")
def show(code: str) -> None:
    """The competition and its calendar as it stands."""
    with api_client() as api:
        _calendar(api.call("GET", f"/competitions/{code}"))


@competitions.command("move")
def move(
    code: str,
    stage: str,
    opens: Annotated[str, typer.Option(help="New opening, with its UTC offset (2025-07-19T00:00:00+08:00)")],
    closes: Annotated[str, typer.Option(help="New close, with its UTC offset")],
    reason: Annotated[str, typer.Option(help="Why (goes to the audit trail and the teams' mail)")],
    shift_later: Annotated[bool, typer.Option(help="Move every later stage by as much")] = False,
) -> None:
    """Move a stage's window: every project's timers and reminders follow, and affected teams are mailed."""
    body = {
        "opens_at": opens,
        "closes_at": closes,
        "reason": reason,
        "shift_later": shift_later,
    }
    with api_client() as api:
        _calendar(api.call("PUT", f"/competitions/{code}/stages/{stage}", json=body))


@competitions.command("dashboard")
def dashboard(code: str) -> None:
    """Live projects per stage and track, ended ones per outcome, and overdue reviews by judge."""
    with api_client() as api:
        board = api.call("GET", f"/competitions/{code}/dashboard")
    typer.echo(f"{board['projects']} projects")
    for title, groups in (("live", board["live"]), ("ended", board["ended"])):
        for group, tracks in sorted(groups.items()):
            per_track = ", ".join(f"{t} {n}" for t, n in sorted(tracks.items()))
            typer.echo(f"  {title:<5} {group:<24} {sum(tracks.values()):>5}   {per_track}")
    for person in board["overdue"]:
        typer.echo(f"  overdue: {person['name']} <{person['email']}> owes {len(person['tasks'])}:")
        for task in person["tasks"]:
            typer.echo(f"    {task['project_id']} ({task['round']}) due {task['due_at']}")


@competitions.command("late")
def late(code: str) -> None:
    """Every running project past the deadline of what it waits on (exit 1 if any, for scripts)."""
    with api_client() as api:
        rows = api.call("GET", f"/competitions/{code}/late")
    for row in rows:
        typer.echo(
            f"{row['project_id']}  {row['stage']:<24} waiting on {row['waiting_on']:<10} since {row['deadline']}"
        )
    typer.echo(f"{len(rows)} late")
    if rows:
        raise typer.Exit(1)


@competitions.command("export")
def export(
    code: str,
    table: Annotated[str, typer.Argument(help=f"One of {', '.join(TABLES)}, or 'all'")],
    format: Annotated[str, typer.Option(help="xlsx or csv")] = "xlsx",
    out: Annotated[Path, typer.Option(help="Folder to write into")] = Path("."),
) -> None:
    """Download result tables for Excel, with a progress bar over the tables and the bytes."""
    wanted = list(TABLES) if table == "all" else [table]
    out.mkdir(parents=True, exist_ok=True)
    with api_client() as api, typer.progressbar(wanted, label="exporting") as bar:
        for name in bar:
            target = out / f"{code}-{name}.{format}"
            with target.open("wb") as file:
                size = api.download(f"/competitions/{code}/exports/{name}", file, {"format": format}, lambda _: None)
            typer.echo(f"  {target} ({size} bytes)")


@mails.command("list")
def list_mails(
    status: Annotated[str | None, typer.Option(help="queued, sending, sent, failed or uncertain")] = None,
    workflow: Annotated[str | None, typer.Option(help="Workflow id prefix, e.g. a competition code")] = None,
    limit: int = 50,
) -> None:
    """The newest mails first, with their state and last error."""
    params: dict[str, str | int] = {"limit": limit}
    if status:
        params["status"] = status
    if workflow:
        params["workflow_id"] = workflow
    with api_client() as api:
        page = api.call("GET", "/mails", params=params)
    for mail in page["mails"]:
        error = f"  {mail['last_error']}" if mail["last_error"] else ""
        typer.echo(f"{mail['id']:>7} {mail['status']:<8} {mail['milestone']:<32} {mail['recipient']}{error}")
    typer.echo(f"{len(page['mails'])} of {page['total']}")


def _failed_ids(api: ApiClient, workflow: str | None) -> list[int]:
    params: dict[str, str | int] = {"status": "failed", "limit": 1000}
    if workflow:
        params["workflow_id"] = workflow
    ids: list[int] = []
    while True:
        page = api.call("GET", "/mails", params=params | {"offset": len(ids)})
        ids += [m["id"] for m in page["mails"]]
        if not page["mails"] or len(ids) >= page["total"]:
            return ids


@mails.command("resend")
def resend(
    ids: Annotated[list[int] | None, typer.Argument(help="Mail ids; none with --failed")] = None,
    failed: Annotated[bool, typer.Option("--failed", help="Every failed mail (of --workflow, if given)")] = False,
    workflow: Annotated[str | None, typer.Option(help="Workflow id prefix for --failed")] = None,
) -> None:
    """Resend mails (each at most once more: a mail sent meanwhile is skipped), with a progress bar."""
    with api_client() as api:
        chosen = list(ids or []) + (_failed_ids(api, workflow) if failed else [])
        if not chosen:
            typer.echo("nothing to resend")
            return
        with typer.progressbar(chosen, label="resending") as bar:
            started = [api.call("POST", f"/mails/{mail_id}/resend")["workflow_id"] for mail_id in bar]
    typer.echo(f"{len(started)} resends started: {', '.join(started)}")


def audit_list(
    after: Annotated[int, typer.Option(help="Records after this sequence number")] = 0,
    limit: int = 100,
    object_id: Annotated[str | None, typer.Option(help="Only records about this object")] = None,
) -> None:
    """The audit log in order: who did what to which object, when."""
    params: dict[str, str | int] = {"after": after, "limit": limit}
    if object_id:
        params["object_id"] = object_id
    with api_client() as api:
        records = api.call("GET", "/audit", params=params)
    for r in records:
        typer.echo(f"{r['seq']:>7} {r['at']} {r['actor']:<20} {r['action']:<28} {r['object_type']}:{r['object_id']}")


def project_status(project_id: str) -> None:
    """One project's state: stage, what it waits on until when, its outcome, and its log."""
    with api_client() as api:
        p = api.call("GET", f"/projects/{project_id}")
    typer.echo(f"{p['id']}  {p['name']}  [{p['track_code']} / {p['problem_code']}]")
    typer.echo(f"  stage {p['stage']}, waiting on {p['waiting_on']} until {p['deadline']}, outcome {p['outcome']}")
    for entry in p.get("log", []):
        typer.echo(f"  {entry['occurred_at']} {entry['kind']:<16} {entry['stage']:<24} {entry.get('decision') or ''}")
