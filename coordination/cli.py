"""`flask --app app <command>`: the commands operators run."""
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from sqlalchemy import func, inspect, select

from .extensions import db


def register_commands(app: Flask) -> None:
    app.cli.add_command(create_user_command)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(serve_demo_command)
    app.cli.add_command(expire_holds_command)
    app.cli.add_command(periodic_command)
    app.cli.add_command(send_mail_command)
    app.cli.add_command(check_integrity_command)
    app.cli.add_command(verify_audit_command)
    app.cli.add_command(audit_checkpoint_command)
    app.cli.add_command(anonymize_command)
    app.cli.add_command(export_hsds_command)
    app.cli.add_command(import_shelters_command)
    app.cli.add_command(create_api_token_command)


def _read_password() -> str:
    """From a hidden prompt at a terminal, else the first line of standard input; never argv."""
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


@click.command("create-user")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", required=True,
              type=click.Choice(["shelter_staff", "caseworker", "guardianship", "oversight", "admin"]))
@click.option("--organization", required=True, help="The organization's name, as registered.")
def create_user_command(email: str, name: str, role: str, organization: str) -> None:
    """Create an account. The password is read from a prompt, or from stdin when piped."""
    from .accounts.services import create_user
    from .errors import InvalidInput

    password = _read_password()
    try:
        user = create_user(email, name, role, organization, password)
    except InvalidInput as refusal:
        db.session.rollback()
        raise click.ClickException(refusal.message) from None
    db.session.commit()
    click.echo(f"Created {user.role} account {user.email} in {user.organization.name}.")


def _refuse_in_production() -> None:
    if current_app.config["COORDINATION_ENV"] == "production":
        raise click.ClickException("Demo data is never loaded in production (COORDINATION_ENV=production).")


@click.command("seed-demo")
def seed_demo_command() -> None:
    """Load the demo regions, organizations, shelters and users; safe to run again."""
    from .demo import seed_demo

    _refuse_in_production()
    counts = seed_demo()
    db.session.commit()
    _set_aside_demo_mail()
    click.echo("Demo data present: " + ", ".join(f"{n} {kind}" for kind, n in counts.items()) + ".")


def _set_aside_demo_mail() -> None:
    """The demo's made-up day notifies its made-up people; none of that goes by e-mail, even
    with a MAIL_SERVER set (the demo's addresses may exist somewhere)."""
    from .notifications.mail import committed_mail
    from .notifications.sending import set_aside

    ids = committed_mail()
    if ids:
        set_aside(ids, "written by seed-demo: never sent")
        db.session.commit()


@click.command("serve-demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def serve_demo_command(host: str, port: int) -> None:
    """Migrate the database, fill a new one with demo data, and serve the app for trying out."""
    from flask_migrate import upgrade
    from werkzeug.serving import run_simple

    from .accounts.models import User
    from .demo import DEMO_PASSWORD, USERS, seed_demo

    _refuse_in_production()
    upgrade()
    if not inspect(db.engine).has_table("user") or db.session.scalar(select(User.id).limit(1)) is None:
        seed_demo()
        db.session.commit()
        _set_aside_demo_mail()
        click.echo("New database: demo data loaded.")
    db.session.remove()
    click.echo(f"\nShelter coordination is running at http://{host}:{port}/")
    click.echo(f"Demo logins (password: {DEMO_PASSWORD}):")
    width = max(len(user[0]) for user in USERS)
    for email, _name, role, organization in USERS:
        click.echo(f"  {email:<{width}} {role:<14} {organization}")
    click.echo("Press Ctrl+C to stop.\n")
    run_simple(host, port, current_app._get_current_object(), threaded=True, use_reloader=False)


def _run_committed(work, what: str):
    """Run `work` and commit, again from the start after a deadlock (transactions.run_whole)."""
    from .transactions import TryAgain, run_whole

    def work_and_commit():
        done = work()
        db.session.commit()
        return done

    try:
        return run_whole(work_and_commit, attempts=current_app.config["TRANSACTION_ATTEMPTS"], what=what)
    except TryAgain as refusal:
        raise click.ClickException(refusal.message) from None


def _expire_holds() -> None:
    from .referrals.services import expire_overdue_holds

    expired = _run_committed(expire_overdue_holds, "expire-holds")
    click.echo(f"Expired {len(expired)} hold(s)." + "".join(
        f"\n  referral {r.id} ({r.child.case_reference}) in pool {r.pool_id}" for r in expired))


@click.command("expire-holds")
def expire_holds_command() -> None:
    """Close referrals whose bed hold ran out and free their beds. Safe to run every minute
    from several servers at once. (The older name: `periodic` does this and escalates.)"""
    _expire_holds()


@click.command("periodic")
def periodic_command() -> None:
    """What must happen as time passes: close referrals whose bed hold ran out, escalate
    referrals that waited on someone longer than their urgency allows, alert that a child
    found at a police station or detention centre still has no referral, and send the e-mail
    that waits. Safe to run every minute from several servers at once; each in a
    transaction of its own."""
    from .escalations.services import escalate_waiting_referrals

    _expire_holds()
    steps = _run_committed(escalate_waiting_referrals, "escalate")
    click.echo(f"Escalated {len(steps)} step(s)." + "".join(
        f"\n  referral {s.referral.id} ({s.referral.child.case_reference}) in {s.referral.status}: "
        f"level {s.level}, {s.audience}, after {int(s.waited.total_seconds() // 60)} min" for s in steps))
    from .referrals.found import alert_unplaced_children

    children = _run_committed(alert_unplaced_children, "alert on unplaced children")
    click.echo(f"Alerted on {len(children)} child(ren) found at a waiting place with no referral." + "".join(
        f"\n  {c.case_reference} ({c.found_place}), found "
        f"{int((c.unplaced_alert_at - c.found_at).total_seconds() // 3600)} h ago" for c in children))
    _send_mail()  # the steps' e-mails, and any that wait for another try


def _send_mail() -> None:
    from .notifications.sending import send_pending_mail

    run = send_pending_mail()
    if run.sent or run.failed or run.given_up:
        click.echo(f"E-mail: {run.sent} sent, {run.failed} to try again later, {run.given_up} given up."
                   + "".join(f"\n  {error}" for error in run.errors))


@click.command("send-mail")
def send_mail_command() -> None:
    """Send the e-mails that wait (new ones, and those whose last try failed and are due
    again). Safe to run every minute from several servers at once: each e-mail is claimed
    by one of them before it is sent."""
    _send_mail()


@click.command("check-integrity")
def check_integrity_command() -> None:
    """Recount holds and placements against every pool; exit 1 naming each mismatch."""
    from .referrals.services import integrity_problems

    problems = integrity_problems()
    db.session.rollback()
    if problems:
        for problem in problems:
            click.echo(f"MISMATCH {problem}", err=True)
        raise SystemExit(1)
    click.echo("All pools agree with their referrals.")


def _one_snapshot() -> None:
    """Read the events and the chain head as of one moment, so that events committed while
    the trail is walked never look like a mismatch. (PostgreSQL: a REPEATABLE READ
    transaction; on SQLite every transaction already is one.)"""
    db.session.rollback()
    if db.engine.dialect.name == "postgresql":
        db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def _read_checkpoint(path: Path):
    from .audit.checkpoints import MalformedCheckpoint, loads

    try:
        return loads(path.read_text(encoding="utf-8")), None
    except (OSError, UnicodeDecodeError) as error:
        return None, f"it cannot be read ({error})"
    except MalformedCheckpoint as error:
        return None, str(error)


@click.command("verify-audit")
@click.option("--checkpoint", "checkpoint_files", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A checkpoint made by audit-checkpoint; the trail must still extend it. May be repeated.")
def verify_audit_command(checkpoint_files: tuple[Path, ...]) -> None:
    """Walk the audit trail's signed hash chain; exit 1 naming the first broken link, and
    each checkpoint that the trail no longer extends."""
    from .audit.checkpoints import problems_with
    from .audit.models import AuditEvent
    from .audit.services import AuditKeyError, keyring, verify_chain

    _one_snapshot()
    try:
        keys = keyring()
        problems = verify_chain()
    except AuditKeyError as error:
        raise click.ClickException(str(error)) from None
    total = db.session.scalar(select(db.func.count(AuditEvent.id)))
    verdicts = []
    for path in checkpoint_files:
        checkpoint, malformed = _read_checkpoint(path)
        found = [malformed] if malformed else problems_with(checkpoint, keys)
        problems += [f"checkpoint {path}: {problem}" for problem in found]
        if not found:
            verdicts.append(f"The trail still extends checkpoint {path} ({checkpoint}).")
    db.session.rollback()
    if problems:
        for problem in problems:
            click.echo(f"BROKEN {problem}", err=True)
        raise SystemExit(1)
    click.echo(f"The audit trail is intact: {total} events.")
    for verdict in verdicts:
        click.echo(verdict)


@click.command("audit-checkpoint")
@click.option("--output", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Write the checkpoint to this file instead of printing it.")
def audit_checkpoint_command(output: Path | None) -> None:
    """Print a signed statement of how far the audit trail goes (its events, the last one's
    id and hash, the time), for the ombudsman's office to keep outside the system. Its making
    is recorded in the trail, and the statement covers that record."""
    from .audit import checkpoints
    from .audit.models import AuditHead
    from .audit.services import AuditKeyError, keyring, record, verify_chain

    # Recorded first, then stated: the statement covers its own record, so it states the real
    # head and the trail extends it. The record also signs the head with the current key
    # straight after a key change. (The signature itself is not kept in the trail: a
    # checkpoint is worth something only where the database's administrators cannot reach it.)
    try:
        record("audit.checkpoint", "audit_head", 1)
        db.session.commit()
        _one_snapshot()
        problems = verify_chain()
        if not problems:
            statement = checkpoints.make(keyring(), db.session.get(AuditHead, 1))
    except AuditKeyError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    db.session.rollback()
    if problems:
        for problem in problems:
            click.echo(f"BROKEN {problem}", err=True)
        click.echo("No checkpoint was made: the audit trail does not verify.", err=True)
        raise SystemExit(1)
    text = checkpoints.dumps(statement)
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        raise click.ClickException(f"The checkpoint could not be written to {output}: {error}") from None
    click.echo(f"Checkpoint written to {output}: {statement['event_count']} events up to event "
               f"{statement['last_event_id']}, made at {statement['made_at']}.")


@click.command("anonymize")
@click.option("--ended-before", "ended_before", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Children whose referrals all ended before this date (YYYY-MM-DD).")
def anonymize_command(ended_before) -> None:
    """Remove names, birth dates and free text from children whose referrals all ended
    before the date; what the reports count stays. Recorded in the audit trail."""
    from datetime import timezone

    from .referrals.services import anonymize_ended_before

    children = anonymize_ended_before(ended_before.replace(tzinfo=timezone.utc))
    db.session.commit()
    click.echo(f"Anonymized {len(children)} child record(s) whose referrals all ended before "
               f"{ended_before:%Y-%m-%d}." + "".join(f"\n  {c.case_reference}" for c in children))


@click.command("export-hsds")
@click.argument("out", type=click.Path(path_type=Path))
def export_hsds_command(out: Path) -> None:
    """Write the directory of shelters, bed pools and free beds as HSDS 3.1 (Open Referral):
    into OUT.zip when OUT ends in .zip, else into the directory OUT. No child data and no
    shelter's address is ever in it (see coordination/directory/export.py)."""
    from .directory.export import build_package

    package = build_package()
    db.session.rollback()
    try:
        written = package.write(out)
    except OSError as error:
        raise click.ClickException(f"The export could not be written to {out}: {error}") from None
    tables = package.tables
    click.echo(f"HSDS 3.1 written to {out} ({len(written)} file(s)): {len(tables['organization'])} organization(s), "
               f"{len(tables['location'])} shelter(s), {len(tables['service'])} bed pool(s), "
               f"{sum(int(c['available']) for c in tables['service_capacity'])} bed(s) free.")


def _report_lines(report, done: bool) -> list[str]:
    """The report as people read it: counts, then each addition and each update with its
    fields before → after (an address only as "changed": it is for need-to-know readers)."""
    add, update = ("added", "updated") if done else ("to add", "to update")
    lines = [f"Organizations: {report.count('organization', 'add')} {add}."]
    for kind, plural in (("shelter", "Shelters"), ("pool", "Pools")):
        lines.append(f"{plural}: {report.count(kind, 'add')} {add}, {report.count(kind, 'update')} {update}, "
                     f"{report.count(kind, 'unchanged')} unchanged.")
    signs = {"add": "+", "update": "~"}
    for change in report.changed:
        detail = "; ".join(f"{name} {before!r} → {after!r}" for name, (before, after) in change.changes.items())
        lines.append(f"  {signs[change.action]} {change.kind} {change.name} ({change.where})"
                     + (f": {detail}" if detail else ""))
    return lines


@click.command("import-shelters")
@click.argument("file", type=click.Path(exists=True, path_type=Path))
@click.option("--as", "admin_email", required=True,
              help="The email of the admin loading the registry: the audit trail records it as theirs.")
@click.option("--dry-run", is_flag=True, help="List what would change and every problem; change nothing.")
@click.option("--create-organizations", is_flag=True,
              help="Register organizations the file names that do not exist yet (else they are errors).")
def import_shelters_command(file: Path, admin_email: str, dry_run: bool, create_organizations: bool) -> None:
    """Load shelters and bed pools from a registry: our CSV (one row per pool; see the README)
    or an HSDS datapackage (a directory, its datapackage.json or a .zip) as export-hsds writes
    it. All of it in one transaction, or nothing when any row has a problem; running the same
    file again changes nothing."""
    from flask_babel import force_locale

    from .accounts.models import ADMIN
    from .accounts.services import find_user_by_email
    from .audit import services as audit
    from .directory import registry
    from .directory.services import load_registry

    with force_locale("en"):
        admin = find_user_by_email(admin_email)
        if admin is None or admin.role != ADMIN or not admin.active:
            raise click.ClickException(f"{admin_email} is not an active admin's account; give --as an admin's email.")
        try:
            source = registry.read(file)
        except (OSError, UnicodeDecodeError, ValueError) as error:
            raise click.ClickException(f"{file} cannot be read: {error}") from None
        token = audit.act_as(audit.Actor(user_id=admin.id, organization_id=admin.organization_id,
                                         client_address="import-shelters"))
        try:
            report = load_registry(source, admin, create_organizations=create_organizations)
            lines = _report_lines(report, done=not dry_run and not report.problems)
            if report.problems:
                db.session.rollback()
                click.echo("\n".join(lines))
                click.echo(f"{len(report.problems)} problem(s); nothing was changed:", err=True)
                for problem in report.problems:
                    click.echo(f"  {problem}", err=True)
                raise SystemExit(1)
            if dry_run:
                db.session.rollback()
                click.echo("Dry run: nothing was changed.\n" + "\n".join(lines))
                return
            db.session.commit()
        finally:
            audit.reset(token)
        click.echo(f"Loaded {file} as {admin.email}.\n" + "\n".join(lines))


@click.command("create-api-token")
@click.option("--as", "admin_email", required=True,
              help="The email of the admin making it: the audit trail records it as theirs.")
@click.option("--label", required=True, help="Who will use it, e.g. the other system's name.")
@click.option("--organization", required=True, help="The organization it acts for, its name as registered.")
@click.option("--role", required=True, type=click.Choice(["caseworker", "shelter_staff", "guardianship", "oversight"]))
@click.option("--scope", "scopes", multiple=True,
              help="What it may do (repeat for each); every scope the role could use when none is given.")
@click.option("--expires-on", type=click.DateTime(formats=["%Y-%m-%d"]), help="The day it stops working.")
def create_api_token_command(admin_email: str, label: str, organization: str, role: str, scopes: tuple[str, ...],
                             expires_on) -> None:
    """Make an API token, as an admin does on /admin/api-tokens, for provisioning another
    system from a script. The token is printed once, alone on standard output; only its
    SHA-256 is kept."""
    from flask_babel import force_locale

    from .accounts.models import ADMIN, Organization
    from .accounts.services import find_user_by_email
    from .api import tokens
    from .audit import services as audit
    from .errors import InvalidInput

    admin = find_user_by_email(admin_email)
    if admin is None or admin.role != ADMIN or not admin.active:
        raise click.ClickException(f"{admin_email} is not an active admin's account; give --as an admin's email.")
    acting_for = db.session.scalar(
        select(Organization).where(func.lower(Organization.name) == organization.strip().lower()))
    if acting_for is None:
        raise click.ClickException(f"There is no organization called {organization}.")
    token = audit.act_as(audit.Actor(user_id=admin.id, organization_id=admin.organization_id,
                                     client_address="create-api-token"))
    try:
        with force_locale("en"):  # the command line speaks English, as the other commands do
            made, secret = tokens.create_token(admin, label, acting_for.id, role,
                                               list(scopes) or list(tokens.SCOPES_BY_ROLE.get(role, ())),
                                               expires_on.date() if expires_on else None)
        db.session.commit()
    except InvalidInput as refusal:
        db.session.rollback()
        raise click.ClickException(" ".join(getattr(refusal, "problems", {}).values()) or refusal.message) from None
    finally:
        audit.reset(token)
    click.echo(f"Made token {made.prefix}… for {label} ({acting_for.name}, {role}: {', '.join(made.scopes)}). "
               "It is shown this once:", err=True)
    click.echo(secret)
