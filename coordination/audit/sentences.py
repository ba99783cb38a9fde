"""The audit trail read as sentences in the reader's language: "Rashad Aliyev (Safe Haven)
accepted the referral of UC-2026-00004 (no. 12)".

All the wording is here, one whole sentence per kind of event with named placeholders, so
each language orders its own words. An action this table does not know still reads as a
neutral sentence naming it; nothing here ever fails on an odd event.

What a sentence may show: staff names and organizations, case references and referral
numbers, region, shelter and pool names, statuses and reason codes in words, counts. Never a
child's name and never free text typed into a form (a decline's reason text, a count's
reason): either could name a child. Everything a page of events needs is loaded in one query
per kind of record (`Names.load`), however many events the page holds.
"""
from dataclasses import dataclass, field
from datetime import timedelta

from flask import url_for
from flask_babel import gettext as _, lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import select

from ..accounts.models import Organization, Region, User
from ..beds.models import BedPool, Shelter
from ..extensions import db
from ..i18n import LANGUAGES, duration
from ..referrals.models import Child, Referral
from ..words import record_part, word

# action, or action:variant -> the sentence. Placeholders: actor (who acted, "Name
# (Organization)" or "The system"), object (the record, by its name or case reference),
# case and number (a referral's child's case reference and the referral's number), address
# (where a sign-in came from), and a few that one action fills (role, email, failures, …).
SENTENCES = {
    "login": _l("%(actor)s signed in"),
    "logout": _l("%(actor)s signed out"),
    "login.failed:unknown email": _l("Someone at %(address)s tried to sign in as %(email)s, which is no "
                                     "account's e-mail"),
    "login.failed:wrong password": _l("Someone at %(address)s tried to sign in as %(object)s with a wrong "
                                      "password"),
    "login.failed:paused": _l("Someone at %(address)s tried to sign in as %(object)s while sign-ins from "
                              "there were paused"),
    "login.failed:deactivated": _l("Someone at %(address)s tried to sign in as %(object)s, a deactivated "
                                   "account"),
    "login.failed:wrong code": _l("%(actor)s gave a wrong sign-in code (try %(tried)s)"),
    "login.failed": _l("Someone at %(address)s failed to sign in as %(object)s"),
    "password.change": _l("%(actor)s changed their password"),
    "password.reset": _l("%(actor)s reset the password of %(object)s"),
    "totp.enable": _l("%(actor)s turned on two-factor sign-in"),
    "totp.disable": _l("%(actor)s turned off two-factor sign-in"),
    "user.sign_in_paused": _l("Sign-ins to the account of %(object)s from %(address)s were paused after "
                              "%(failures)s failed attempts"),
    "user.unlock": _l("%(actor)s lifted the sign-in pauses of %(object)s"),
    "user.create": _l("%(actor)s created the account of %(object)s (%(role)s)"),
    "user.update": _l("%(actor)s changed the account of %(object)s"),
    "user.deactivate": _l("%(actor)s deactivated the account of %(object)s"),
    "user.reactivate": _l("%(actor)s reactivated the account of %(object)s"),
    "user.language": _l("%(actor)s changed their language from %(from)s to %(to)s"),
    "user.mail_choice": _l("%(actor)s changed which kinds of e-mail they receive"),
    "role_policy.update:on": _l("%(actor)s required two-factor sign-in for every %(role)s"),
    "role_policy.update:off": _l("%(actor)s stopped requiring two-factor sign-in for %(role)s accounts"),
    "organization.create": _l("%(actor)s added the organization %(object)s"),
    "organization.update": _l("%(actor)s changed the organization %(object)s"),
    "organization.deactivate": _l("%(actor)s deactivated the organization %(object)s"),
    "organization.reactivate": _l("%(actor)s reactivated the organization %(object)s"),
    "region.create": _l("%(actor)s added the region %(object)s"),
    "region.update": _l("%(actor)s changed the region %(object)s"),
    "shelter.create": _l("%(actor)s added the shelter %(object)s"),
    "shelter.update": _l("%(actor)s changed the shelter %(object)s"),
    "pool.create": _l("%(actor)s added the bed pool %(object)s"),
    "pool.update": _l("%(actor)s changed the bed pool %(object)s"),
    "pool.counts": _l("%(actor)s updated the bed counts of %(object)s"),
    "directory.import": _l("%(actor)s loaded a registry of shelters and bed pools (%(object)s)"),
    "child.register": _l("%(actor)s registered the child %(object)s"),
    "child.view": _l("%(actor)s opened the record of the child %(object)s"),
    "child.view_list": _l("%(actor)s saw children's names on %(object)s"),
    "child.consent": _l("%(actor)s recorded the consent to share the record of %(object)s"),
    "child.languages": _l("%(actor)s changed the languages of %(object)s"),
    "child.update": _l("%(actor)s corrected the record of %(object)s"),
    "child.anonymize": _l("%(actor)s removed the names and personal details of %(object)s"),
    "child.note": _l("%(actor)s wrote a case note on %(object)s"),
    "child.unplaced_alert": _l("%(actor)s raised the alert that %(object)s, found at a police station or "
                               "detention centre, still had no referral"),
    "anonymize.run": _l("%(actor)s anonymized the records of children whose referrals all ended long ago"),
    "referral.draft": _l("%(actor)s drafted a referral of %(case)s (no. %(number)s)"),
    "referral.submitted": _l("%(actor)s submitted the referral of %(case)s (no. %(number)s); a bed is held"),
    "referral.accepted": _l("%(actor)s accepted the referral of %(case)s (no. %(number)s)"),
    "referral.declined": _l("%(actor)s declined the referral of %(case)s (no. %(number)s)"),
    "referral.approved": _l("%(actor)s approved the placement of %(case)s (referral no. %(number)s)"),
    "referral.rejected": _l("%(actor)s rejected the placement of %(case)s (referral no. %(number)s)"),
    "referral.placed": _l("%(actor)s recorded the arrival of %(case)s (referral no. %(number)s)"),
    "referral.discharged": _l("%(actor)s recorded the discharge of %(case)s (referral no. %(number)s)"),
    "referral.withdrawn": _l("%(actor)s withdrew the referral of %(case)s (no. %(number)s)"),
    "referral.expired": _l("%(actor)s expired the hold of the referral of %(case)s (no. %(number)s)"),
    "referral.repoint": _l("%(actor)s moved the referral of %(case)s (no. %(number)s) to another bed pool"),
    "referral.escalated": _l("%(actor)s escalated the referral of %(case)s (no. %(number)s): it waited too long"),
    "referral.group": _l("%(actor)s referred siblings together to the shelter %(object)s"),
    "child.sibling_link": _l("%(actor)s linked %(object)s with a brother or sister"),
    "child.sibling_unlink": _l("%(actor)s unlinked %(object)s from their siblings"),
    "referral.transfer": _l("%(actor)s started a transfer of %(case)s to another shelter (referral no. %(number)s)"),
    "referral.missing": _l("%(actor)s raised the alarm that %(case)s left without notice (referral no. %(number)s)"),
    "referral.emergency_placed": _l("%(actor)s took in %(case)s at once, before the guardianship decision "
                                    "(referral no. %(number)s)"),
    "referral.emergency_approved": _l("%(actor)s approved the emergency placement of %(case)s "
                                      "(referral no. %(number)s)"),
    "referral.moving_out": _l("%(actor)s rejected the emergency placement of %(case)s (referral no. %(number)s); "
                              "the child must move out"),
    "audit.checkpoint": _l("%(actor)s made a checkpoint of the audit trail"),
    "audit.export": _l("%(actor)s downloaded the audit trail as a spreadsheet (CSV)"),
    "api_token.created": _l("%(actor)s made %(object)s (%(role)s)"),
    "api_token.revoked": _l("%(actor)s revoked %(object)s"),
    "api.request": _l("%(actor)s called the API with %(object)s"),
}
UNKNOWN = _l("%(actor)s: “%(action)s” on %(object)s")

# The actions as the filter offers them, in words.
ACTIONS = {
    "login": _l("Signed in"), "logout": _l("Signed out"), "login.failed": _l("Failed sign-in"),
    "password.change": _l("Password changed"), "password.reset": _l("Password reset"),
    "totp.enable": _l("Two-factor sign-in turned on"), "totp.disable": _l("Two-factor sign-in turned off"),
    "user.sign_in_paused": _l("Sign-ins paused"), "user.unlock": _l("Sign-in pauses lifted"),
    "user.create": _l("Account created"), "user.update": _l("Account changed"),
    "user.deactivate": _l("Account deactivated"), "user.reactivate": _l("Account reactivated"),
    "user.language": _l("Language changed"), "role_policy.update": _l("Sign-in rule changed"),
    "user.mail_choice": _l("E-mail choice changed"),
    "organization.create": _l("Organization added"), "organization.update": _l("Organization changed"),
    "organization.deactivate": _l("Organization deactivated"),
    "organization.reactivate": _l("Organization reactivated"),
    "region.create": _l("Region added"), "region.update": _l("Region changed"),
    "shelter.create": _l("Shelter added"), "shelter.update": _l("Shelter changed"),
    "pool.create": _l("Bed pool added"), "pool.update": _l("Bed pool changed"),
    "pool.counts": _l("Bed counts updated"),
    "directory.import": _l("Registry of shelters loaded"),
    "child.register": _l("Child registered"), "child.view": _l("Child's record opened"),
    "child.view_list": _l("Children's names seen in a list"),
    "child.consent": _l("Consent recorded"), "child.languages": _l("Child's languages changed"),
    "child.update": _l("Child's record corrected"), "child.anonymize": _l("Child's record anonymized"),
    "child.note": _l("Case note written"),
    "child.unplaced_alert": _l("Alert: a child found in custody still without a referral"),
    "anonymize.run": _l("Old records anonymized"),
    "referral.draft": _l("Referral drafted"), "referral.submitted": _l("Referral submitted"),
    "referral.accepted": _l("Referral accepted"), "referral.declined": _l("Referral declined"),
    "referral.approved": _l("Placement approved"), "referral.rejected": _l("Placement rejected"),
    "referral.placed": _l("Arrival recorded"), "referral.discharged": _l("Discharge recorded"),
    "referral.withdrawn": _l("Referral withdrawn"), "referral.expired": _l("Hold expired"),
    "referral.repoint": _l("Referral moved to another pool"),
    "referral.escalated": _l("Referral escalated"),
    "referral.group": _l("Siblings referred together"), "child.sibling_link": _l("Siblings linked"),
    "child.sibling_unlink": _l("Sibling unlinked"),
    "referral.transfer": _l("Transfer started"), "referral.missing": _l("Child missing: alarm raised"),
    "referral.emergency_placed": _l("Emergency placement"),
    "referral.emergency_approved": _l("Emergency placement approved"),
    "referral.moving_out": _l("Emergency placement rejected"),
    "audit.checkpoint": _l("Audit checkpoint made"), "audit.export": _l("Audit trail downloaded"),
    "api_token.created": _l("API token made"), "api_token.revoked": _l("API token revoked"),
    "api.request": _l("API request"),
}

# The kinds of record events are about, as the filter offers them.
OBJECTS = {
    "child": _l("Child"), "referral": _l("Referral"), "user": _l("Person"), "organization": _l("Organization"),
    "region": _l("Region"), "shelter": _l("Shelter"), "bed_pool": _l("Bed pool"),
    "role_policy": _l("Sign-in rule"), "audit_head": _l("Audit trail"), "api_token": _l("API token"),
}

# Whom an escalation told (besides the referring caseworker), by the step's audience.
ESCALATED_TO = {
    "actors": _l("Level %(level)s: those who must act were reminded, after %(waited)s of waiting"),
    "guardianship": _l("Level %(level)s: escalated to the guardianship and custody body of the region, after "
                       "%(waited)s of waiting"),
    "oversight": _l("Level %(level)s: escalated to oversight, after %(waited)s of waiting"),
}

# The pages that list children's names (a child.view_list event's object), in words.
PAGES = {
    "children list": _l("the list of children"), "likely duplicates": _l("a warning of likely duplicates"),
    "referral form": _l("the new referral form"), "search results": _l("the results of a search for a child"),
    "siblings": _l("a child's list of siblings"), "sibling group": _l("the siblings referred together"),
    "sibling referral form": _l("the form to refer siblings together"),
}
# Of a list's case references, how many its event lists by name.
LISTED_CASES = 10

# The fields a change names, in words (what they were changed to is not repeated: it may be
# an address, which oversight does not read).
FIELDS = {
    "name": _l("name"), "name_ru": _l("Russian name"), "name_en": _l("English name"), "code": _l("code"),
    "kind": _l("kind"), "region_id": _l("region"), "organization_id": _l("organization"), "role": _l("role"),
    "address": _l("address"), "phone": _l("phone"), "status": _l("status"), "languages": _l("languages"),
    "services": _l("services"), "accessibility": _l("accessibility"), "label": _l("label"),
    "admits_sex": _l("who it admits"), "min_age": _l("youngest age"), "max_age": _l("oldest age"),
    "capacity": _l("capacity"),
}

# Detail fields that are read as a sentence of their own (and so not listed again).
FAILED_SIGN_INS = ("unknown email", "wrong password", "paused", "deactivated", "wrong code")


@dataclass(frozen=True)
class Part:
    """A piece of a sentence: its words, and where it leads when the reader may go there."""
    text: str
    url: str | None = None

    def __str__(self) -> str:
        return self.text

    def __html__(self) -> str:
        if self.url:
            return Markup('<a href="%s">%s</a>') % (self.url, self.text)
        return str(escape(self.text))


@dataclass
class Names:
    """The names of everything a batch of events mentions, loaded one query per kind."""
    users: dict = field(default_factory=dict)          # id -> (name, email, organization id)
    organizations: dict = field(default_factory=dict)  # id -> name
    regions: dict = field(default_factory=dict)        # id -> name
    shelters: dict = field(default_factory=dict)       # id -> name
    pools: dict = field(default_factory=dict)          # id -> (label, shelter name)
    children: dict = field(default_factory=dict)       # id -> case reference
    referrals: dict = field(default_factory=dict)      # id -> child's case reference

    @classmethod
    def load(cls, events) -> "Names":
        wanted = {kind: set() for kind in ("user", "organization", "region", "shelter", "bed_pool", "child",
                                           "referral")}
        for e in events:
            if e.user_id:
                wanted["user"].add(e.user_id)
            if e.organization_id:
                wanted["organization"].add(e.organization_id)
            if e.object_type in wanted and e.object_id.isdigit():
                wanted[e.object_type].add(int(e.object_id))
            details = e.details if isinstance(e.details, dict) else {}
            filters = details.get("filters") if e.action == "audit.export" else None
            if isinstance(filters, dict) and str(filters.get("organization", "")).isdigit():
                wanted["organization"].add(int(filters["organization"]))
            for key, kind in (("pool", "bed_pool"), ("from_pool", "bed_pool"), ("to_pool", "bed_pool"),
                              ("shelter", "shelter"), ("organization", "organization"), ("region", "region")):
                if isinstance(details.get(key), int):
                    wanted[kind].add(details[key])
        names = cls()
        if wanted["user"]:
            names.users = {i: (n, m, o) for i, n, m, o in db.session.execute(
                select(User.id, User.name, User.email, User.organization_id).where(User.id.in_(wanted["user"])))}
            wanted["organization"] |= {o for _n, _m, o in names.users.values()}
        if wanted["bed_pool"]:
            names.pools = {i: (label, shelter) for i, label, shelter in db.session.execute(
                select(BedPool.id, BedPool.label, Shelter.name).join(Shelter, Shelter.id == BedPool.shelter_id)
                .where(BedPool.id.in_(wanted["bed_pool"])))}
        if wanted["referral"]:
            # Only the case reference: a child's names are never read here.
            names.referrals = dict(db.session.execute(
                select(Referral.id, Child.case_reference).join(Child, Child.id == Referral.child_id)
                .where(Referral.id.in_(wanted["referral"]))).all())
        for kind, model, column, into in (("organization", Organization, Organization.name, "organizations"),
                                          ("region", Region, Region.name, "regions"),
                                          ("shelter", Shelter, Shelter.name, "shelters"),
                                          ("child", Child, Child.case_reference, "children")):
            if wanted[kind]:
                setattr(names, into, dict(db.session.execute(
                    select(model.id, column).where(model.id.in_(wanted[kind]))).all()))
        return names


@dataclass(frozen=True)
class Reading:
    """One event as the reader reads it."""
    event: object
    actor: Part
    actor_email: str
    actor_name: str
    actor_organization: str
    sentence: Markup  # with links, for the page
    text: str         # the same words, plain, for the CSV
    lines: list       # details worth reading, each a short plain sentence
    object_reference: str


def _trail_of(object_type: str, object_id: str) -> str:
    return url_for("audit.index", object_type=object_type, object=object_id)


class _Reader:
    def __init__(self, names: Names, administers: bool, links: bool):
        self.names, self.administers, self.links = names, administers, links

    def url(self, endpoint: str, **values) -> str | None:
        return url_for(endpoint, **values) if self.links else None

    def actor(self, event) -> tuple[Part, str, str, str]:
        """Who acted, as the sentence names them; their e-mail, name and organization."""
        if not event.user_id:
            return Part(_("The system")), "", _("The system"), ""
        name, email, organization_id = self.names.users.get(event.user_id, (None, "", None))
        if name is None:
            text = _("Person no. %(id)s", id=event.user_id)
            return Part(text), "", text, ""
        organization = self.names.organizations.get(event.organization_id or organization_id) or ""
        text = _("%(name)s (%(organization)s)", name=name, organization=organization) if organization else name
        return Part(text, self.url("audit.index", person=email) if email else None), email, name, organization

    def object(self, event) -> Part:
        kind, oid = event.object_type, event.object_id
        key = int(oid) if oid.isdigit() else None
        trail = self.url("audit.index", object_type=kind, object=oid) if oid else None
        if kind == "child":
            reference = self.names.children.get(key) or (event.details or {}).get("case_reference")
            return Part(reference or _("child no. %(id)s", id=oid) if oid else _("children"), trail)
        if kind == "referral":
            return Part(self.names.referrals.get(key) or _("child unknown"), trail)
        if kind == "user":
            name, _email, organization_id = self.names.users.get(key, (None, "", None))
            if name is None:
                return Part(_("person no. %(id)s", id=oid) if oid else _("an unknown account"))
            organization = self.names.organizations.get(organization_id)
            text = _("%(name)s (%(organization)s)", name=name, organization=organization) if organization else name
            return Part(text, self.url("admin.user", user_id=key) if self.administers else trail)
        if kind == "organization":
            return Part(self.names.organizations.get(key) or _("organization no. %(id)s", id=oid),
                        self.url("admin.organization", organization_id=key) if self.administers else trail)
        if kind == "region":
            return Part(self.names.regions.get(key) or _("region no. %(id)s", id=oid),
                        self.url("admin.region", region_id=key) if self.administers else trail)
        if kind == "shelter":
            return Part(self.names.shelters.get(key) or _("shelter no. %(id)s", id=oid),
                        self.url("beds.shelter", shelter_id=key) if key else trail)
        if kind == "bed_pool":
            return Part(self.pool(key) or _("bed pool no. %(id)s", id=oid), trail)
        if kind == "role_policy":
            return Part(word(oid))
        if kind == "audit_head":
            return Part(_("the audit trail"))
        if kind == "api_token":
            return Part(_("the API token no. %(id)s", id=oid), trail)
        if kind == "page":
            return Part(str(PAGES.get(oid, oid)))
        return Part(f"{kind} {oid}".strip(), trail)

    def pool(self, pool_id) -> str | None:
        if pool_id not in self.names.pools:
            return None
        label, shelter = self.names.pools[pool_id]
        return _("%(pool)s at %(shelter)s", pool=label, shelter=shelter)

    def values(self, event, actor: Part, details: dict) -> dict:
        obj = self.object(event)
        return {
            "actor": actor, "object": obj, "case": obj, "number": event.object_id,
            "address": details.get("address") if event.action == "user.sign_in_paused" else event.client_address,
            "email": details.get("email", ""), "tried": details.get("codes_tried", ""),
            "failures": details.get("failures", ""), "role": word(str(details.get("role", event.object_id))),
            "from": LANGUAGES.get(details.get("from"), details.get("from", "")),
            "to": LANGUAGES.get(details.get("to"), details.get("to", "")),
            "action": event.action,
        }

    def variant(self, event, details: dict) -> str:
        if event.action == "login.failed" and details.get("why") in FAILED_SIGN_INS:
            return f"login.failed:{details['why']}"
        if event.action == "role_policy.update":
            return "role_policy.update:" + ("on" if details.get("require_totp") else "off")
        return event.action

    def lines(self, event, details: dict) -> list[str]:
        """The details worth reading, in words; free text is never among them."""
        lines = []
        if event.action.startswith("referral.") and details.get("from") and details.get("to"):
            lines.append(_("From “%(before)s” to “%(after)s”", before=word(details["from"]),
                           after=word(details["to"])))
        if details.get("reason_code"):
            lines.append(_("Reason: %(reason)s", reason=word(details["reason_code"])))
        if isinstance(details.get("pool"), int) and self.pool(details["pool"]):
            lines.append(_("Bed pool: %(pool)s", pool=self.pool(details["pool"])))
        if event.action == "referral.escalated" and details.get("audience") in ESCALATED_TO:
            lines.append(str(ESCALATED_TO[details["audience"]]) % {
                "level": details.get("level", "?"),
                "waited": duration(timedelta(minutes=details["waited_minutes"] if isinstance(
                    details.get("waited_minutes"), int) else 0))})
        if event.action in ("referral.repoint", "referral.transfer"):
            lines.append(_("From %(before)s to %(after)s",
                           before=self.pool(details.get("from_pool")) or "?",
                           after=self.pool(details.get("to_pool")) or "?"))
        changes = details.get("changes")
        if isinstance(changes, dict) and changes:
            lines.append(_("Changed: %(fields)s", fields=", ".join(str(FIELDS.get(f, f)) for f in changes)))
            if isinstance(changes.get("capacity"), list) and len(changes["capacity"]) == 2:
                lines.append(_("Capacity from %(old)s to %(new)s", old=changes["capacity"][0],
                               new=changes["capacity"][1]))
        if event.action == "pool.counts":
            lines.append(_("Now %(occupied)s occupied, %(oos)s out of service, %(held)s held",
                           occupied=details.get("occupied", "?"), oos=details.get("out_of_service", "?"),
                           held=details.get("held", "?")))
        if event.action == "child.update" and isinstance(details.get("fields"), list):
            lines.append(_("Corrected: %(parts)s", parts=", ".join(record_part(f) for f in details["fields"])))
        if event.action == "child.view_list" and isinstance(details.get("case_references"), list):
            cases = [str(case) for case in details["case_references"]]
            shown = ", ".join(cases[:LISTED_CASES])
            lines.append(_("Children: %(cases)s", cases=shown) if len(cases) <= LISTED_CASES else
                         _("Children: %(cases)s and %(more)s more", cases=shown, more=len(cases) - LISTED_CASES))
        if event.action == "child.sibling_link" and details.get("sibling"):
            lines.append(_("Sibling: %(case)s", case=details["sibling"]))
        if event.action == "referral.group" and isinstance(details.get("case_references"), list):
            lines.append(_("Children: %(cases)s", cases=", ".join(str(c) for c in details["case_references"])))
        if event.action == "child.consent":
            lines.append(_("The child agreed") if details.get("assent") else _("The child did not agree"))
        if event.action == "anonymize.run":
            lines.append(_("Children anonymized: %(count)s; their referrals ended before %(day)s",
                           count=details.get("children", 0), day=str(details.get("ended_before", ""))[:10]))
        if details.get("unpaused"):
            lines.append(_("Addresses no longer paused: %(count)s", count=details["unpaused"]))
        if event.action == "user.sign_in_paused" and details.get("until"):
            lines.append(_("Paused until %(time)s (UTC)", time=str(details["until"])[:16].replace("T", " ")))
        if event.action == "api.request" and details.get("method"):
            lines.append(_("%(method)s %(path)s, answered %(status)s", method=details.get("method"),
                           path=details.get("path", ""), status=details.get("status", "?")))
        if event.action == "api_token.created" and isinstance(details.get("scopes"), list):
            lines.append(_("May: %(scopes)s", scopes=", ".join(str(s) for s in details["scopes"])))
        if event.action == "audit.export" and isinstance(details.get("filters"), dict):
            shown = "; ".join(f"{FILTER_LABELS.get(k, k)}: {self.filter_value(k, v)}"
                              for k, v in details["filters"].items())
            lines.append(_("Filters: %(filters)s", filters=shown) if shown else _("No filters: the whole trail"))
        return lines

    def filter_value(self, name: str, value) -> str:
        """A filter an export used, as the filter offered it: an organization by its name, an
        action and a kind of record in words."""
        value = str(value)
        if name == "organization" and value.isdigit():
            return self.names.organizations.get(int(value), value)
        if name == "action":
            return action_words(value)
        if name == "object_type":
            return str(OBJECTS.get(value, value))
        return value

    def read(self, event) -> Reading:
        details = event.details if isinstance(event.details, dict) else {}
        actor, email, name, organization = self.actor(event)
        values = self.values(event, actor, details)
        template = SENTENCES.get(self.variant(event, details)) or SENTENCES.get(event.action) or UNKNOWN
        try:
            text = str(template) % {k: str(v) for k, v in values.items()}
            sentence = Markup(escape(str(template))) % values
        except (KeyError, ValueError, TypeError):  # a translation that lost a placeholder
            text = str(UNKNOWN) % {k: str(v) for k, v in values.items()}
            sentence = Markup(escape(str(UNKNOWN))) % values
        return Reading(event=event, actor=actor, actor_email=email, actor_name=name,
                       actor_organization=organization, sentence=sentence, text=text,
                       lines=self.lines(event, details), object_reference=str(values["object"]))


# The filters an export records, named as the page names them.
FILTER_LABELS = {
    "person": _l("Person"), "organization": _l("Organization"), "action": _l("Action"),
    "object_type": _l("Object"), "object": _l("Object reference"), "date_from": _l("From"), "date_to": _l("To"),
}


def read(events, administers: bool = False, links: bool = True) -> list[Reading]:
    """The events as sentences. `administers`: the reader may open the admin pages, so
    people, organizations and regions link there; otherwise to their own trail. Children and
    referrals always link to their own trail (nobody reading it may open them)."""
    events = list(events)
    reader = _Reader(Names.load(events), administers, links)
    return [reader.read(e) for e in events]


def action_words(action: str) -> str:
    return str(ACTIONS.get(action, action))
