"""Occupancy at the end of each month, from the bed history alone: each pool's last update
before the month ended, carried forward through months without one, summed per region."""
from coordination import clock
from coordination.beds.models import BedUpdate
from coordination.extensions import db

from .conftest import NOW, RANGE, utc
from .helpers import report


def test_end_of_month_occupancy_per_region_carries_the_last_update_forward(make, login_as):
    clock.freeze(NOW)
    north, south = make.region("North"), make.region("South")
    q1 = make.pool(shelter=make.shelter(region=north), capacity=12)
    q2 = make.pool(shelter=make.shelter(region=north), capacity=5)
    q3 = make.pool(shelter=make.shelter(region=south), capacity=4)
    for pool, at, capacity, occupied in [
        (q3, utc(2026, 3, 1, 9), 4, 3),      # before the range: South's April starts from here…
        (q1, utc(2026, 3, 20, 9), 10, 2),
        (q1, utc(2026, 4, 10, 9), 10, 5),
        (q1, utc(2026, 4, 25, 9), 10, 4),    # …and North's April ends here
        (q3, utc(2026, 4, 30, 19), 4, 1),    # 23:00 in Baku: still April
        (q2, utc(2026, 5, 31, 20, 30), 5, 3),  # 00:30 on 1 June in Baku: a June update
        (q1, utc(2026, 6, 5, 9), 12, 7),
    ]:
        db.session.add(BedUpdate(pool_id=pool.id, created_at=at, capacity=capacity, occupied=occupied,
                                 out_of_service=0, held=0, reason="count"))
        db.session.commit()  # one at a time, in the order they happened

    admin = login_as("admin")
    assert report(admin, "occupancy-history") == [
        # region, month, capacity, occupied, occupancy
        ["North", "April 2026", "10", "4", "40 %"],
        ["North", "May 2026", "10", "4", "40 %"],   # no update in May: April's counts still hold
        ["North", "June 2026", "17", "10", "59 %"],
        ["South", "April 2026", "4", "1", "25 %"],
        ["South", "May 2026", "4", "1", "25 %"],
        ["South", "June 2026", "4", "1", "25 %"],
    ]
    assert report(admin, "occupancy-history", f"{RANGE}&region={south.id}")[0] == [
        "South", "April 2026", "4", "1", "25 %"]
    # A month of fewer than five children occupied is "<5" to oversight, and no rate gives it away.
    assert report(login_as("oversight"), "occupancy-history")[3] == ["South", "April 2026", "4", "<5", "—"]
