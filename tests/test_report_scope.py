"""Who reads aggregates over which regions, and small counts shown to oversight."""
import pytest

from coordination.reports.scope import may_read_aggregates, region_scope, shown_count


@pytest.mark.parametrize("role, reads", [("admin", True), ("oversight", True), ("guardianship", True),
                                         ("caseworker", False), ("shelter_staff", False)])
def test_admins_oversight_and_guardianship_read_aggregates(make, role, reads):
    assert may_read_aggregates(make.user(role)) is reads


def test_a_guardianship_officer_reads_their_own_region_and_the_others_every_region(make):
    region = make.region()
    officer = make.user("guardianship", organization=make.organization(kind="state", region=region))
    assert region_scope(officer) == region.id
    assert region_scope(make.user("oversight")) is None
    assert region_scope(make.user("admin")) is None


@pytest.mark.parametrize("count, to_oversight, to_others", [(0, "0", "0"), (1, "<5", "1"), (4, "<5", "4"),
                                                            (5, "5", "5"), (120, "120", "120")])
def test_oversight_sees_counts_of_one_to_four_children_as_under_five(make, count, to_oversight, to_others):
    assert shown_count(count, make.user("oversight")) == to_oversight
    assert shown_count(count, make.user("admin")) == to_others
    assert shown_count(count, make.user("guardianship")) == to_others
