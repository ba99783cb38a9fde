"""The words for the app's codes (statuses, roles, needs, …) in the reader's language."""
from flask_babel import lazy_gettext as _l

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
    # urgency
    "routine": _l("routine"), "urgent": _l("urgent"), "emergency": _l("emergency"),
    # decline reasons
    "no_capacity": _l("no capacity"), "not_eligible": _l("not eligible"), "needs_not_met": _l("needs not met"),
    "other": _l("other"),
    # sexes
    "female": _l("female"), "male": _l("male"),
}


def word(key: str) -> str:
    return str(WORDS.get(key, key))


