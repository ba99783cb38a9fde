"""Guessing passwords pauses the guesser's address, never the account's owner elsewhere;
the owner and the administrators are told once per pause, and have a way back."""
from datetime import timedelta

from sqlalchemy import select

from coordination import clock
from coordination.accounts.models import SignInPause
from coordination.audit.models import AuditEvent
from coordination.extensions import db
from coordination.notifications.models import Notification

from ..conftest import at_address

GUESSER = "203.0.113.66"
OWNER = "198.51.100.7"
WRONG = "wrong password!"


def guess(app, email: str, times: int = 1, address: str = GUESSER) -> list[int]:
    return [at_address(app, address).login(email, password=WRONG).status_code for _ in range(times)]


def pause_of(user, address: str = GUESSER) -> SignInPause | None:
    return db.session.scalar(select(SignInPause).where(SignInPause.user_id == user.id,
                                                       SignInPause.client_address == address))


def notices(user) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id)))


def test_guessing_from_another_address_never_locks_the_owner_out(app, make):
    user = make.user("caseworker")
    assert guess(app, user.email, times=12) == [422] * 12
    assert at_address(app, GUESSER).login(user.email).status_code == 422  # paused there, even the right one
    assert at_address(app, OWNER).login(user.email).status_code == 303


def test_each_further_failure_doubles_the_pause_up_to_an_hour(app, make):
    clock.freeze(clock.now())
    user = make.user("caseworker")
    guess(app, user.email, times=5)
    lengths = []
    for _ in range(8):
        pause = pause_of(user)
        lengths.append(pause.paused_until - clock.now())
        # While paused, tries are refused unchecked and do not count.
        assert guess(app, user.email, times=3) == [422] * 3
        assert pause_of(user).failures == pause.failures
        clock.freeze(pause.paused_until + timedelta(seconds=1))
        guess(app, user.email)
    assert lengths == [timedelta(minutes=m) for m in (1, 2, 4, 8, 16, 32, 60, 60)]


def test_a_failure_a_day_after_the_last_starts_the_count_again(app, make):
    clock.freeze(clock.now())
    user = make.user("caseworker")
    guess(app, user.email, times=4)
    clock.freeze(clock.now() + timedelta(hours=25))
    guess(app, user.email)
    assert pause_of(user).failures == 1 and pause_of(user).paused_until is None


def test_the_owner_and_every_active_admin_are_told_once_per_pause(app, make, login_as):
    clock.freeze(clock.now())
    user = make.user("caseworker")
    admin = make.user("admin")
    other_admin = make.user("admin")
    retired_admin = make.user("admin")
    retired_admin.active = False
    bystander = make.user("caseworker")
    db.session.commit()

    guess(app, user.email, times=4)
    assert notices(user) == []
    guess(app, user.email)  # the fifth: paused
    clock.freeze(clock.now() + timedelta(minutes=2))
    guess(app, user.email, times=2)  # the pause is lengthened, nobody is told again

    assert [n.text_key for n in notices(user)] == ["account.sign_in_paused"]
    for told in (admin, other_admin):
        assert [(n.text_key, n.params["user_id"]) for n in notices(told)] == [
            ("account.sign_in_paused.admin", user.id)]
    assert notices(retired_admin) == notices(bystander) == []
    paused = list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "user.sign_in_paused")))
    assert [(e.object_id, e.details["address"]) for e in paused] == [(str(user.id), GUESSER)]

    page = login_as(user).get("/notifications").get_data(as_text=True)
    assert (f"Repeated wrong passwords for your account came from the address {GUESSER} at ") in page
    assert "sign-ins from there are paused. If this was not you, tell an administrator." in page
    page = login_as(admin).get("/notifications").get_data(as_text=True)
    assert f"Sign-ins to the account {user.email} from the address {GUESSER} were paused at " in page
    assert f'href="/admin/users/{user.id}"' in page


def test_a_new_run_of_failures_after_a_sign_in_is_a_new_pause_and_told_again(app, make):
    clock.freeze(clock.now())
    user = make.user("caseworker")
    guess(app, user.email, times=5)
    clock.freeze(clock.now() + timedelta(minutes=2))
    assert at_address(app, GUESSER).login(user.email).status_code == 303  # clears that address's count
    assert pause_of(user) is None
    guess(app, user.email, times=5)
    assert pause_of(user).paused_until == clock.now() + timedelta(minutes=1)
    assert len(notices(user)) == 2
