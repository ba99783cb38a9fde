from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from ..forms import (Form, LanguagesField, LocalDateTimeField, MultiCheckboxField, PageCursorField, options,
                     report_problems)
from ..words import DECLINE_LABELS, DISCHARGE_LABELS, FOUND_PLACE_LABELS, NEED_LABELS, SEX_LABELS, URGENCY_LABELS, WORDS
from . import services
from .models import NOT_RECORDED, STATUSES


def _region_id(typed: str) -> int | None:
    return int(typed) if typed.isascii() and typed.isdigit() and int(typed) < 2**31 else None


class ChildRecordForm(Form):
    """A child's own record: what registering sets and a correction changes. Validating
    asks WTForms and the service's rules (services.child_problems) together, so one answer
    names every problem, each under its own field."""

    given_name = StringField(_l("Given name"), validators=[InputRequired(_l("Enter the given name.")), Length(max=200)])
    family_name = StringField(_l("Family name"), validators=[Optional(), Length(max=200)])
    sex = SelectField(_l("Sex"), choices=options(SEX_LABELS),
                      validators=[InputRequired()])
    birth_date = DateField(_l("Date of birth"), validators=[Optional()])
    estimated_age = IntegerField(_l("Estimated age, if the date of birth is unknown"),
                                 validators=[Optional(), NumberRange(0, 17, _l("An unaccompanied child is 0 to 17 years old."))])
    nationality = StringField(_l("Nationality"), validators=[Optional(), Length(max=100)])
    languages = LanguagesField(_l("Languages the child speaks"))
    needs = MultiCheckboxField(_l("Needs"), choices=options(NEED_LABELS), validators=[Optional()])
    region = SelectField(_l("Current region"), choices=[], validators=[InputRequired()])
    # Where and when the child was found; the service judges them (found.found_problems).
    found_place = SelectField(_l("Where the child was found"), choices=options(FOUND_PLACE_LABELS),
                              validate_choice=False)
    found_region = SelectField(_l("Region where the child was found"), choices=[], validate_choice=False)
    found_at = LocalDateTimeField(_l("When the child was found"), validators=[Optional()])
    confirm_not_duplicate = BooleanField(_l("This is a different child; save anyway"))

    def record(self) -> dict:
        """The record as the services take it (register_child, correct_child)."""
        region = self.region.data or ""
        return {
            "given_name": self.given_name.data or "", "family_name": self.family_name.data or "",
            "sex": self.sex.data, "birth_date": self.birth_date.data, "estimated_age": self.estimated_age.data,
            "nationality": self.nationality.data or "", "languages": self.languages.data or [],
            "needs": self.needs.data or [],
            "region_id": _region_id(region),
            "found_place": self.found_place.data or "", "found_region_id": _region_id(self.found_region.data or ""),
            "found_at": self.found_at.utc,
        }

    def rule_problems(self) -> dict[str, str]:
        """The service's rules over what was typed."""
        return services.child_problems(**self.record())

    def validate(self, extra_validators=None) -> bool:
        super().validate(extra_validators)
        problems = self.rule_problems()
        if self.birth_date.data is None and self.estimated_age.errors:
            # An age was typed, out of range or unreadable, and WTForms said so: it is not also missing.
            problems.pop("birth_date", None)
        report_problems(self, problems)
        return not self.errors


class ChildForm(ChildRecordForm):
    """Registering a child: the record, and the consent to share if it is known yet."""

    consent_given_by = StringField(_l("Consent to share given by"), validators=[Optional(), Length(max=200)])
    consent_given_at = LocalDateTimeField(_l("Consent given at"), validators=[Optional()])
    child_assent = BooleanField(_l("The child agrees (assent)"))
    # "Not recorded" is only what children registered before the question have.
    found_place = SelectField(_l("Where the child was found"), validate_choice=False, choices=options(
        [("", "—")] + [(code, label) for code, label in FOUND_PLACE_LABELS.items() if code != NOT_RECORDED]))

    def rule_problems(self) -> dict[str, str]:
        return services.child_problems(**self.record(), consent_given_by=self.consent_given_by.data or "",
                                       consent_given_at=self.consent_given_at.utc, new_child=True)


class ChildLanguagesForm(Form):
    languages = LanguagesField(_l("Languages the child speaks"))


class ConsentForm(Form):
    consent_given_by = StringField(_l("Consent to share given by"),
                                   validators=[InputRequired(_l("Say who gave consent.")), Length(max=200)])
    consent_given_at = LocalDateTimeField(_l("Consent given at"),
                                          validators=[InputRequired(_l("Give the date and time of the consent."))])
    child_assent = BooleanField(_l("The child agrees (assent)"))

    def validate(self, extra_validators=None) -> bool:
        """WTForms' checks and the service's (services.consent_problems) in one answer."""
        super().validate(extra_validators)
        report_problems(self, services.consent_problems(self.consent_given_by.data or "", self.consent_given_at.utc))
        return not self.errors


class ReferralForm(Form):
    child = SelectField(_l("Child"), choices=[], validators=[InputRequired(_l("Choose the child."))])
    pool = SelectField(_l("Bed pool"), choices=[], validate_choice=False,
                       validators=[InputRequired(_l("Choose a bed pool."))])
    urgency = SelectField(_l("Urgency"), choices=options(URGENCY_LABELS), default="routine")
    note = TextAreaField(_l("Note for the shelter"), validators=[Optional(), Length(max=2000)])
    then = HiddenField(default="submit")


class MoveForm(Form):
    """Every referral step posts this; which fields count depends on the step."""
    reason_code = SelectField(_l("Reason"), choices=options([("", "—")]) + options(
                                  {**DECLINE_LABELS, **DISCHARGE_LABELS}), validators=[Optional()])
    reason_text = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=2000)])
    arrived_at = LocalDateTimeField(_l("Arrived at"), validators=[Optional()])


class TransferForm(Form):
    """Starting a transfer of a placed child: the new pool, how urgent, a note for the shelter."""
    pool = IntegerField(_l("Bed pool"), validators=[InputRequired(_l("Choose a bed pool.")), NumberRange(1, 2**31 - 1)])
    urgency = SelectField(_l("Urgency"), choices=options(URGENCY_LABELS), default="routine")
    note = TextAreaField(_l("Note for the shelter"), validators=[Optional(), Length(max=2000)])


class RepointForm(Form):
    pool = IntegerField(validators=[InputRequired(), NumberRange(1, 2**31 - 1)])


class ReferralFilterForm(Form):
    class Meta:
        csrf = False

    status = SelectField(_l("Status"), choices=options([("", _l("Any status"))] + [(s, WORDS[s]) for s in STATUSES]),
                         default="")
    region = SelectField(_l("Region"), choices=[], default="")
    urgency = SelectField(_l("Urgency"), choices=options([("", _l("Any urgency"))]) + options(URGENCY_LABELS),
                          default="")
    before = PageCursorField()
    after = PageCursorField()


class ChildFilterForm(Form):
    class Meta:
        csrf = False

    status = SelectField(_l("Placement"), choices=options([("", _l("Any")), ("unreferred", _l("No live referral")),
                                                           ("referred", _l("Referral in progress")),
                                                           ("placed", _l("Placed"))]), default="")
    region = SelectField(_l("Region"), choices=[], default="")
    urgency = SelectField(_l("Urgency of live referral"),
                          choices=options([("", _l("Any urgency"))]) + options(URGENCY_LABELS), default="")
    q = StringField(_l("Case reference or name"), validators=[Optional(), Length(max=200)],
                    filters=[lambda v: v.strip() if isinstance(v, str) else v])
    before = PageCursorField()
    after = PageCursorField()


class NoteForm(Form):
    """A new case note. Its length and emptiness are the service's to judge (notes.note_problem),
    so that one refusal says it in the same words wherever the note is written from."""
    body = TextAreaField(_l("New note"))
    back = HiddenField()


class NotesPageForm(Form):
    class Meta:
        csrf = False

    before = PageCursorField()
    after = PageCursorField()


class ChildSearchForm(Form):
    """The search in every page's header."""

    class Meta:
        csrf = False

    q = StringField(_l("Find a child"), validators=[Optional(), Length(max=200)],
                    filters=[lambda v: v.strip() if isinstance(v, str) else v])
    before = PageCursorField()
    after = PageCursorField()
