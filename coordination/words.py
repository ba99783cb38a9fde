"""The words for the app's codes (statuses, roles, needs, …) in the reader's language."""
from flask_babel import gettext as _, lazy_gettext as _l

WORDS = {
    # freshness
    "fresh": _l("fresh"), "aging": _l("aging"), "stale": _l("stale"),
    # roles
    "shelter_staff": _l("shelter staff"), "caseworker": _l("caseworker"),
    "guardianship": _l("guardianship officer"), "oversight": _l("oversight"), "admin": _l("administrator"),
    # shelter status
    "open": _l("open"), "suspended": _l("suspended"), "closed": _l("closed"),
    # services and needs
    "medical": _l("medical care"), "disability": _l("disability support"),
    "psychosocial": _l("psychosocial / trauma care"), "trafficking": _l("trafficking survivors"),
    "young_mother": _l("pregnant girls and young mothers"),
    # counts
    "occupied": _l("occupied"), "out_of_service": _l("out of service"),
    # referral statuses
    "draft": _l("draft"), "submitted": _l("submitted"), "accepted": _l("accepted by the shelter"),
    "approved": _l("approved by guardianship"), "placed": _l("placed"), "declined": _l("declined"),
    "rejected": _l("rejected by guardianship"), "withdrawn": _l("withdrawn"), "expired": _l("expired"),
    "discharged": _l("discharged"),
    "emergency_placed": _l("placed in an emergency, decision due"), "moving_out": _l("moving out"),
    # urgency
    "routine": _l("routine"), "urgent": _l("urgent"), "emergency": _l("emergency"),
    # decline reasons
    "no_capacity": _l("no capacity"), "not_eligible": _l("not eligible"), "needs_not_met": _l("needs not met"),
    "other": _l("other"),
    # how a placement ended (discharge outcomes)
    "family_reunification": _l("family reunification"), "foster_care": _l("foster care"),
    "other_guardian": _l("another guardian"), "aged_out": _l("came of age"),
    "missing": _l("left without notice (missing)"), "transferred": _l("transferred"),
    # sexes
    "female": _l("female"), "male": _l("male"),
}

# The same codes as a form offers them to choose from.
NEED_LABELS = {
    "medical": _l("Medical"), "disability": _l("Disability"), "psychosocial": _l("Psychosocial / trauma"),
    "trafficking": _l("Trafficking risk"), "young_mother": _l("Pregnant or young mother"),
}
URGENCY_LABELS = {"routine": _l("Routine"), "urgent": _l("Urgent"), "emergency": _l("Emergency")}
DECLINE_LABELS = {"no_capacity": _l("No capacity"), "not_eligible": _l("Not eligible"),
                  "needs_not_met": _l("Needs not met"), "other": _l("Other")}
DISCHARGE_LABELS = {"family_reunification": _l("Family reunification"), "foster_care": _l("Foster care"),
                    "other_guardian": _l("Another guardian"), "aged_out": _l("Came of age (18)"),
                    "missing": _l("Left without notice (missing)"), "transferred": _l("Transferred elsewhere"),
                    "other": _l("Other")}


def discharge_outcome(code: str) -> str:
    """How a placement ended, in words; discharges recorded before outcomes were asked say so."""
    return str(DISCHARGE_LABELS[code]) if code in DISCHARGE_LABELS else _("not recorded")
SEX_LABELS = {"female": _l("Female"), "male": _l("Male")}
ADMITS_LABELS = {"female": _l("Girls"), "male": _l("Boys"), "any": _l("Girls and boys")}
# Where a child was found (referrals/models.py FOUND_PLACES).
FOUND_PLACE_LABELS = {
    "border_crossing": _l("Border crossing point"), "airport": _l("Airport"),
    "migrant_detention": _l("Detention centre for illegal migrants"), "police_station": _l("Police station"),
    "street_outreach": _l("Street or outreach work"), "hospital": _l("Hospital"),
    "self_referral": _l("Came on their own (self-referral)"), "other": _l("Other place"),
    "not_recorded": _l("Not recorded"),
}


def found_place(code: str) -> str:
    return str(FOUND_PLACE_LABELS.get(code, FOUND_PLACE_LABELS["not_recorded"]))


KIND_LABELS = {"ngo": _l("NGO"), "state": _l("State body"), "international": _l("International organization")}


def word(key: str) -> str:
    return str(WORDS.get(key, key))


# The parts of a child's record, as its history names those a correction changed.
RECORD_PARTS = {
    "given_name": _l("Given name"), "family_name": _l("Family name"), "sex": _l("Sex"),
    "birth_date": _l("Date of birth"), "estimated_age": _l("Estimated age"), "nationality": _l("Nationality"),
    "languages": _l("Languages"), "needs": _l("Needs"), "region": _l("Current region"),
    "found_place": _l("Where the child was found"), "found_region": _l("Region where the child was found"),
    "found_at": _l("When the child was found"),
}


def record_part(name: str) -> str:
    return str(RECORD_PARTS.get(name, name))




# One line of a referral's timeline per status reached: who did what, as a sentence of its own
# in each language (a status word followed by "by X" reads badly in all three).
TIMELINE = {
    "draft": _l("Draft made by %(who)s"),
    "submitted": _l("Submitted by %(who)s; a bed is held"),
    "accepted": _l("Accepted for the shelter by %(who)s"),
    "declined": _l("Declined for the shelter by %(who)s"),
    "approved": _l("Placement approved by %(who)s"),
    "rejected": _l("Placement rejected by %(who)s"),
    "placed": _l("Arrival recorded by %(who)s"),
    "discharged": _l("Discharge recorded by %(who)s"),
    "withdrawn": _l("Withdrawn by %(who)s"),
    "emergency_placed": _l("Taken in at once, before the guardianship decision, by %(who)s"),
    "emergency_approved": _l("Emergency placement approved by %(who)s"),
    "moving_out": _l("Emergency placement rejected by %(who)s; the child must move out"),
}


def timeline_step(status: str, who: str | None, before: str | None = None) -> str:
    """'Accepted for the shelter by Rashad Aliyev (Safe Haven Azerbaijan)'; a step the
    system made (a hold that ran out) says so. Placed after an emergency placement
    (`before`) is the guardianship's approval, not an arrival."""
    if status == "placed" and before == "emergency_placed":
        status = "emergency_approved"
    if status == "expired" or who is None:
        return _("The hold ran out; the referral expired") if status == "expired" else word(status)
    return str(TIMELINE.get(status, word(status))) % {"who": who}
