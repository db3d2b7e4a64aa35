"""The ``workroute`` command. Names and flags here are a contract users' scripts rely on."""

from __future__ import annotations

import io
import os
import sys
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from sqlalchemy.exc import SQLAlchemyError

from workroute.kernel.errors import DeployError, WorkrouteError

app = typer.Typer(
    name="workroute",
    help="Run Salesforce-style Workflow Rules, Flow Orchestration and Omni-Channel routing.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
user_app = typer.Typer(help="Manage users.", no_args_is_help=True)
connected_app = typer.Typer(
    help="Manage connected apps (OAuth client credentials).", no_args_is_help=True
)
app.add_typer(user_app, name="user")
app.add_typer(connected_app, name="app")


def _add_formula_commands() -> None:
    from workroute.cli.formula import formula_app

    app.add_typer(formula_app, name="formula")


_add_formula_commands()


def _add_automation_commands() -> None:
    from workroute.cli.outbox import outbox_app
    from workroute.cli.retrieve import retrieve_command
    from workroute.cli.workflow import workflow_app

    app.add_typer(workflow_app, name="workflow")
    app.add_typer(outbox_app, name="outbox")
    app.command("retrieve")(retrieve_command)


_add_automation_commands()

out = Console(soft_wrap=True)
# Errors stay on one line however narrow the terminal or pipe, so scripts can match
# "file:line: problem" lines.
err = Console(stderr=True, soft_wrap=True)

DbOpt = Annotated[
    Path | None,
    typer.Option("--db", help="SQLite file of the org (WORKROUTE_DATABASE_URL replaces it)."),
]


def fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def database_url(db: Path | None) -> str:
    url = os.environ.get("WORKROUTE_DATABASE_URL")
    if url:
        return url
    if db is None:
        fail("give --db PATH or set WORKROUTE_DATABASE_URL")
    return "sqlite+pysqlite:///" + str(db.expanduser().resolve())


def open_org(  # type: ignore[no-untyped-def]
    db: Path | None, *, must_exist: bool = True, clock: Any = None
):
    from workroute.org import Org

    url = database_url(db)
    if must_exist and url.startswith("sqlite") and db is not None and not db.exists():
        fail(f"no org at {db}; create one with 'workroute init --db {db} ...'")
    try:
        org = Org.open(database_url=url, clock=clock)
    except WorkrouteError as exc:
        fail(exc.message)
    except SQLAlchemyError as exc:
        fail(f"cannot open the database {_shown_url(url)}: {_first_line(exc)}")
    if must_exist and not org.is_initialized():
        fail("the database holds no org; run 'workroute init' first")
    return org


def _shown_url(url: str) -> str:
    """``url`` without its password."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except SQLAlchemyError:
        return "(unreadable URL)"


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@app.command()
def init(
    admin_username: Annotated[str, typer.Option(help="Username of the first administrator.")],
    admin_password: Annotated[
        str, typer.Option(help="Their password (8+ chars, letters and digits).")
    ],
    db: DbOpt = None,
    demo: Annotated[
        bool, typer.Option(help="Also create demo agents, queues, channels and records.")
    ] = False,
    exists_ok: Annotated[
        bool, typer.Option(help="Succeed quietly when the org already exists.")
    ] = False,
) -> None:
    """Create an org in a database."""
    if db is not None and not os.environ.get("WORKROUTE_DATABASE_URL"):
        db.expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
    org = open_org(db, must_exist=False)
    try:
        if org.is_initialized():
            if exists_ok:
                out.print("The org already exists; nothing to do.")
                return
            fail("this database already holds an org")
        admin_id = org.initialize(admin_username=admin_username, admin_password=admin_password)
        if demo:
            from workroute.demo import create_demo

            create_demo(org, admin_id=admin_id)
    except WorkrouteError as exc:
        fail(exc.message)
    finally:
        org.close()
    out.print(f"Created the org with administrator [bold]{admin_username.lower()}[/].")


@app.command()
def serve(
    db: DbOpt = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8443,
    tls_cert: Annotated[Path | None, typer.Option(help="PEM certificate.")] = None,
    tls_key: Annotated[Path | None, typer.Option(help="PEM private key.")] = None,
    dev_tls: Annotated[
        bool, typer.Option(help="Use a self-signed certificate made for you.")
    ] = False,
    no_tls: Annotated[bool, typer.Option(help="Serve plain HTTP (local use only).")] = False,
    clock: Annotated[
        str,
        typer.Option(
            help="'system', or 'manual': starts at the real time and moves only by "
            "POST /services/workroute/v1/clock/advance (for integration tests)."
        ),
    ] = "system",
    smtp_url: Annotated[
        str | None,
        typer.Option(
            help="SMTP server for workflow email: smtp://[user:pass@]host:port, "
            "smtp+starttls://..., smtps://... (default: $WORKROUTE_SMTP_URL)."
        ),
    ] = None,
    omni_max_queued: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Omni-Channel limit: work items waiting at once; past it, queue-based work "
            "goes to the routing configuration's overflow assignee (default: no limit).",
        ),
    ] = None,
    omni_max_requests: Annotated[
        int | None,
        typer.Option(
            min=0, help="Omni-Channel limit: PendingServiceRouting requests (default: no limit)."
        ),
    ] = None,
    event_retention_hours: Annotated[
        float,
        typer.Option(
            min=0.01,
            max=24 * 365,
            help="How long streaming events are kept for replay (Salesforce keeps 72 hours).",
        ),
    ] = 72.0,
    show_logins: Annotated[str | None, typer.Option(hidden=True)] = None,
) -> None:
    """Serve the REST, OAuth, Metadata and Streaming APIs over HTTPS."""
    import uvicorn

    from workroute.api.app import create_app
    from workroute.server.logs import configure_logging
    from workroute.server.tls import dev_certificate

    if sum(bool(x) for x in (tls_cert or tls_key, dev_tls, no_tls)) != 1:
        fail("choose one of --tls-cert/--tls-key, --dev-tls or --no-tls")
    if (tls_cert is None) != (tls_key is None):
        fail("--tls-cert and --tls-key go together")
    from workroute.delivery.smtp import SmtpSettings
    from workroute.kernel.clock import ManualClock, SystemClock
    from workroute.kernel.runtime import tune_gc

    if clock not in ("system", "manual"):
        fail("--clock is 'system' or 'manual'")
    configure_logging()
    org = open_org(db, clock=ManualClock() if clock == "manual" else SystemClock())
    if isinstance(org.clock, ManualClock):
        from workroute.server.manual_clock import keep

        keep(org, org.clock)
    if smtp_url:
        try:
            org.smtp = SmtpSettings.from_url(smtp_url)
        except WorkrouteError as exc:
            fail(exc.message)
    org.omni.limits.max_queued_items = omni_max_queued
    org.omni.limits.max_pending_requests = omni_max_requests
    org.events.retention = timedelta(hours=event_retention_hours)
    org.dispatcher.start()
    if org.db.checkpointer is not None:
        org.db.checkpointer.start()
    tune_gc()
    if dev_tls:
        folder = (db.expanduser().resolve().parent if db else Path.cwd()) / ".workroute-tls"
        tls_cert, tls_key = dev_certificate(folder, clock=org.clock, host=host)
    scheme = "http" if no_tls else "https"
    shown_host = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host
    out.print(f"workroute is serving [bold]{scheme}://{shown_host}:{port}[/]", highlight=False)
    if show_logins:
        out.print(show_logins, highlight=False)
    sys.stdout.flush()
    uvicorn.run(
        create_app(org),
        host=host,
        port=port,
        ssl_certfile=str(tls_cert) if tls_cert else None,
        ssl_keyfile=str(tls_key) if tls_key else None,
        log_level=os.environ.get("WORKROUTE_LOG_LEVEL", "warning").lower(),
        access_log=False,
    )


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Option(help="Login name, usually an email address.")],
    password: Annotated[str, typer.Option(help="Password (8+ chars, letters and digits).")],
    db: DbOpt = None,
    profile: Annotated[str, typer.Option(help="Profile name.")] = "Standard User",
    email: Annotated[str | None, typer.Option(help="Email (defaults to the username).")] = None,
    last_name: Annotated[str | None, typer.Option(help="Last name.")] = None,
) -> None:
    """Create a user with a password."""
    from workroute.org import NewUser

    org = open_org(db)
    try:
        user_id = org.add_user(
            NewUser(
                username=username,
                last_name=last_name or username.split("@")[0],
                email=email or (username if "@" in username else f"{username}@example.invalid"),
                profile=profile,
            ),
            password=password,
        )
    except WorkrouteError as exc:
        fail(exc.message)
    finally:
        org.close()
    out.print(f"Created user {username.lower()} ({user_id}).", highlight=False)


@connected_app.command("add")
def app_add(
    name: Annotated[str, typer.Option(help="Name of the connected app.")],
    run_as: Annotated[str, typer.Option(help="Username the client-credentials flow acts as.")],
    db: DbOpt = None,
) -> None:
    """Create a connected app; prints its consumer key and secret once."""
    org = open_org(db)
    try:
        user_id = org.user_id_by_username(run_as)
        if user_id is None:
            fail(f"no user named {run_as}")
        creds = org.auth.add_connected_app(name, user_id)
    except WorkrouteError as exc:
        fail(exc.message)
    finally:
        org.close()
    out.print(f"client_id={creds.client_id}", highlight=False)
    out.print(f"client_secret={creds.client_secret}", highlight=False)


@app.command()
def deploy(
    path: Annotated[Path, typer.Argument(help="Metadata folder or .zip (package.xml or SFDX).")],
    db: DbOpt = None,
    url: Annotated[str | None, typer.Option(help="Instance URL of a running server.")] = None,
    username: Annotated[str | None, typer.Option(help="Username to log in with.")] = None,
    password: Annotated[str | None, typer.Option(help="Password to log in with.")] = None,
    token: Annotated[str | None, typer.Option(help="Access token instead of a login.")] = None,
    insecure: Annotated[bool, typer.Option(help="Don't verify the server's certificate.")] = False,
    ca_file: Annotated[
        Path | None,
        typer.Option(help="PEM file of the CA that signed the server's certificate."),
    ] = None,
    check_only: Annotated[bool, typer.Option(help="Validate without changing anything.")] = False,
) -> None:
    """Deploy metadata to a running server (--url) or straight to a database (--db)."""
    if not path.exists():
        fail(f"{path} does not exist")
    if url:
        import ssl

        from workroute.cli.remote import remote_deploy

        verify: bool | ssl.SSLContext = not insecure
        if ca_file is not None:
            if insecure:
                fail("choose one of --ca-file or --insecure")
            try:
                verify = ssl.create_default_context(cafile=str(ca_file))
            except (OSError, ssl.SSLError) as exc:
                fail(f"cannot read the CA file {ca_file}: {exc}")
        ok = remote_deploy(
            path,
            url=url,
            username=username,
            password=password,
            token=token,
            verify=verify,
            check_only=check_only,
            console=out,
        )
        raise typer.Exit(0 if ok else 1)
    from workroute.metadata.deploy import deploy_source

    org = open_org(db)
    try:
        result = deploy_source(org, path, user_id=org.admin_user_id(), check_only=check_only)
    except DeployError as exc:
        for p in exc.problems:
            err.print(f"[red]✗[/] {p.describe()}", highlight=False)
        fail(f"deploy failed with {len(exc.problems)} problem(s); nothing was changed")
    except WorkrouteError as exc:
        fail(exc.message)
    finally:
        org.close()
    for c in result.components:
        out.print(f"[green]✓[/] {c.type} {c.full_name}", highlight=False)
    for s in result.skipped:
        out.print(f"[yellow]-[/] skipped {s}", highlight=False)
    verb = "Validated" if check_only else "Deployed"
    out.print(f"{verb} {len(result.components)} component(s).")


def zip_folder(path: Path) -> bytes:
    """A folder as zip bytes (a .zip path is read as it is)."""
    if path.is_file():
        return path.read_bytes()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for file in sorted(path.rglob("*")):
            if file.is_file():
                zf.write(file, file.relative_to(path).as_posix())
    return buf.getvalue()


def main() -> None:  # pragma: no cover - console entry point
    app()
