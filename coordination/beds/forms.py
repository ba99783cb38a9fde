from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, IntegerField, SelectField, StringField
from wtforms.validators import AnyOf, InputRequired, Length, NumberRange, Optional

from ..forms import Form, options

MAX_BEDS = 10_000
MAX_BOARD_PAGE = 10_000


class BoardFilterForm(Form):
    """The bed board's filters, read from the query string so a filtered board is a link."""

    class Meta:
        csrf = False

    region = SelectField(_l("Region"), choices=[], validate_choice=True, default="")
    sex = SelectField(_l("Sex"), choices=options([("", _l("Any")), ("female", _l("Girls")), ("male", _l("Boys"))]),
                      default="")
    age = IntegerField(_l("Age"), validators=[Optional(), NumberRange(0, 17, _l("Age must be between 0 and 17."))])
    free = BooleanField(_l("Only pools with free beds"), false_values=("", "0", "false"))
    page = IntegerField(validators=[Optional(), NumberRange(1, MAX_BOARD_PAGE, _l("There is no such page."))])


class _PoolVersionForm(Form):
    version = IntegerField(validators=[InputRequired(_l("The form is missing the pool's version; reload the page.")),
                                       NumberRange(1, 2**31 - 1)])

    def fit_to(self, pool) -> None:
        """Bound the counts by this pool's own size, so a refusal names the real limit."""


class AdjustCountForm(_PoolVersionForm):
    field = HiddenField(validators=[InputRequired(), AnyOf(("occupied", "out_of_service"),
                                                             _l("Only occupied and out-of-service beds can be moved."))])
    delta = IntegerField(validators=[InputRequired(), AnyOf((-1, 1), _l("Counts move by one bed at a time."))])


class SetCountsForm(_PoolVersionForm):
    occupied = IntegerField(_l("Occupied"), validators=[
        InputRequired(_l("Enter the number of occupied beds.")),
        NumberRange(0, MAX_BEDS, _l("Occupied must be a whole number from 0 to %(max)s.", max=MAX_BEDS))])
    out_of_service = IntegerField(_l("Out of service"), validators=[
        InputRequired(_l("Enter the number of beds out of service.")),
        NumberRange(0, MAX_BEDS, _l("Out of service must be a whole number from 0 to %(max)s.", max=MAX_BEDS))])
    out_of_service_reason = StringField(_l("Why out of service"), validators=[
        Optional(), Length(max=500, message=_l("Keep the reason under 500 characters."))])

    def fit_to(self, pool) -> None:
        self.occupied.validators = [self.occupied.validators[0], NumberRange(
            0, pool.capacity, _l("Occupied must be a whole number from 0 to %(max)s.", max=pool.capacity))]
        self.out_of_service.validators = [self.out_of_service.validators[0], NumberRange(
            0, pool.capacity, _l("Out of service must be a whole number from 0 to %(max)s.", max=pool.capacity))]


class ConfirmCountsForm(_PoolVersionForm):
    pass
