"""What a referral's urgency changes: how long its bed is held, and, for an emergency placed
before the guardianship decision, by when that decision is due.

Asked by the state machine (services.move) and by whoever watches deadlines (the periodic
command's escalation); it never moves a referral itself."""
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..extensions import db
from .models import EMERGENCY, EMERGENCY_PLACED, Referral

# The setting that says how long a hold lasts, per urgency (config.py).
HOLD_SETTING = {"routine": "HOLD_HOURS", "urgent": "HOLD_HOURS_URGENT", EMERGENCY: "HOLD_HOURS_EMERGENCY"}


def hold_hours(urgency: str) -> float:
    """How many hours a bed is held for a referral of this urgency, from submitting and again
    from each step that renews the hold: the more urgent, the sooner an unanswered
    referral lets its bed go to another child (HOLD_HOURS, HOLD_HOURS_URGENT,
    HOLD_HOURS_EMERGENCY)."""
    return current_app.config[HOLD_SETTING.get(urgency, "HOLD_HOURS")]


def hold_length(urgency: str) -> timedelta:
    return timedelta(hours=hold_hours(urgency))


def hold_hours_by_urgency() -> dict[str, float]:
    """Each urgency's hold in hours, for the form where a caseworker chooses the urgency."""
    return {urgency: hold_hours(urgency) for urgency in HOLD_SETTING}


def decision_due(placed_at: datetime) -> datetime:
    """When the guardianship decision on an emergency placement made at `placed_at` is due:
    EMERGENCY_DECISION_HOURS later."""
    return placed_at + timedelta(hours=current_app.config["EMERGENCY_DECISION_HOURS"])


def decision_is_overdue(referral: Referral, at: datetime) -> bool:
    return (referral.status == EMERGENCY_PLACED and referral.decision_due_at is not None
            and referral.decision_due_at <= at)


def overdue_decision(at: datetime):
    """The condition on a referral: an emergency placement still awaiting the guardianship
    decision whose deadline passed at `at`."""
    return (Referral.status == EMERGENCY_PLACED) & (Referral.decision_due_at <= at)


def decisions_overdue(at: datetime) -> list[Referral]:
    """Emergency placements whose guardianship decision was due by `at` and has not been
    made, the longest overdue first: for escalation to pick up. Reads only."""
    return list(db.session.scalars(
        select(Referral).where(overdue_decision(at))
        .options(joinedload(Referral.child), joinedload(Referral.pool))
        .order_by(Referral.decision_due_at, Referral.id)))
