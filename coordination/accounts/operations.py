"""Signing in, one function per step a person takes: the rules are in accounts.services;
here they meet the notifications, which tell the owner and the administrators when an
address's sign-ins to an account are paused. Flushes, never commits."""
from ..notifications import services as notifications
from . import services
from .models import PendingSignIn, User


def _telling_of_pauses(step):
    try:
        return step()
    except services.LoginRefused as refusal:
        if refusal.pause is not None:
            notifications.tell_sign_ins_paused(refusal.pause.user, refusal.pause.client_address)
        raise


def sign_in(email: str, password: str, address: str) -> User:
    """The password step (see services.authenticate); a failure that pauses the address is told."""
    return _telling_of_pauses(lambda: services.authenticate(email, password, address))


def give_code(pending: PendingSignIn, code: str) -> User:
    """The code step (see services.give_code); a pending sign-in that ran out of codes and so
    paused the address is told."""
    return _telling_of_pauses(lambda: services.give_code(pending, code))
