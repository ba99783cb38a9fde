"""Administration: regions, organizations, shelters with their pools, users, role policies.

Each view: load (404 for an unknown id), check the form, call one service, commit once,
then redirect (303) with a flash; invalid input re-renders the form with its messages (422),
a refusal from the service shows its message with the service's status. A form view is
load → build the form → views.submit, which does the rest.
"""
from flask import Blueprint, abort, flash, make_response, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from ..accounts import services as accounts
from ..accounts.models import Organization, Region, User
from ..beds.models import BedPool, Shelter
from ..errors import DomainError
from ..extensions import db
from ..forms import options
from ..htmx import page_or_fragment
from ..views import back_to, submit
from ..words import KIND_LABELS
from . import services
from .forms import (ActionForm, EditUserForm, NewUserForm, OrganizationForm, PageForm, PoolForm,
                    RegionForm, SecurityForm, ShelterForm, UserFilterForm)

bp = Blueprint("admin", __name__, url_prefix="/admin")

# Ids are 32-bit integer columns: a larger number in an address names nothing (404).
ID = "int(max=2147483647)"
PER_PAGE = 50


@bp.before_request
def admins_only():
    if not services.may_administer(current_user):
        abort(403)


@bp.context_processor
def admin_words():
    return {"kind_word": lambda kind: str(KIND_LABELS.get(kind, kind))}


@bp.get("/")
def index():
    return render_template("admin/index.html")


# --- helpers ---------------------------------------------------------------------------------

def _done(message: str, endpoint: str, **values):
    db.session.commit()
    return back_to(message, endpoint, **values)


def _require_action_form() -> None:
    """Button-only POSTs still carry a form, so that each one is CSRF-checked."""
    if not ActionForm().validate_on_submit():
        abort(400)


def _page_number() -> int:
    form = PageForm(formdata=request.args)
    if not form.validate():
        abort(400)
    return form.page.data or 1


def _region_choices():
    return options((r.id, r.local_name) for r in services.all_regions())


def _organization_choices():
    return options((o.id, o.name if o.active else _("%(name)s (deactivated)", name=o.name))
                   for o in services.all_organizations())


def _load(model, record_id: int):
    return db.session.get(model, record_id) or abort(404)


def _one_time_password_page(user: User, temporary: str, created: bool):
    """The temporary password, shown this once and never stored anywhere it could be read
    back: answered straight to the POST (not through a redirect and the session cookie),
    and never cached."""
    response = make_response(render_template("admin/temporary_password.html", user=user, temporary=temporary,
                                             created=created))
    response.headers["Cache-Control"] = "no-store"
    return response


# --- regions ---------------------------------------------------------------------------------

@bp.get("/regions")
def regions():
    return render_template("admin/regions.html", regions=services.all_regions())


@bp.route("/regions/new", methods=["GET", "POST"])
def new_region():
    form = RegionForm()
    return submit(form, lambda: services.create_region(form.code.data, form.name.data, form.name_ru.data or "",
                                                       form.name_en.data or ""),
                  lambda region: back_to(_("Region %(name)s created.", name=region.local_name), ".regions"),
                  lambda: render_template("admin/region.html", form=form, region=None))


@bp.route(f"/regions/<{ID}:region_id>", methods=["GET", "POST"])
def region(region_id: int):
    region = _load(Region, region_id)
    form = RegionForm(formdata=None, obj=region) if request.method == "GET" else RegionForm()
    return submit(form, lambda: services.update_region(region, form.code.data, form.name.data,
                                                       form.name_ru.data or "", form.name_en.data or ""),
                  lambda _saved: back_to(_("Region %(name)s saved.", name=region.local_name), ".regions"),
                  lambda: render_template("admin/region.html", form=form, region=region))


# --- organizations ---------------------------------------------------------------------------

@bp.get("/organizations")
def organizations():
    page = db.paginate(services.organizations_query(), page=_page_number(), per_page=PER_PAGE, error_out=False)
    return render_template("admin/organizations.html", page=page,
                           members=services.member_counts([o.id for o in page.items]))


def _organization_form(organization: Organization | None = None,
                       submitted: bool | None = None) -> OrganizationForm:
    if submitted is None:
        submitted = request.method == "POST"
    if not submitted:
        data = ({"name": organization.name, "kind": organization.kind, "region": organization.region_id}
                if organization else {})
        form = OrganizationForm(formdata=None, data=data)
    else:
        form = OrganizationForm()
    form.region.choices = _region_choices()
    return form


@bp.route("/organizations/new", methods=["GET", "POST"])
def new_organization():
    form = _organization_form()
    return submit(form, lambda: services.create_organization(form.name.data, form.kind.data, form.region.data),
                  lambda organization: back_to(_("Organization %(name)s created.", name=organization.name),
                                               ".organizations"),
                  lambda: render_template("admin/organization.html", form=form, organization=None))


@bp.route(f"/organizations/<{ID}:organization_id>", methods=["GET", "POST"])
def organization(organization_id: int):
    organization = _load(Organization, organization_id)
    form = _organization_form(organization)
    return submit(form, lambda: services.update_organization(organization, form.name.data, form.kind.data,
                                                             form.region.data),
                  lambda _saved: back_to(_("Organization %(name)s saved.", name=organization.name),
                                         ".organization", organization_id=organization.id),
                  lambda: _organization_page(organization, form))


def _organization_page(organization: Organization, form: OrganizationForm, status: int = 200):
    members = services.member_counts([organization.id]).get(organization.id, 0)
    return render_template("admin/organization.html", form=form, organization=organization, members=members,
                           action_form=ActionForm()), status


@bp.post(f"/organizations/<{ID}:organization_id>/deactivate")
def deactivate_organization(organization_id: int):
    organization = _load(Organization, organization_id)
    _require_action_form()
    try:
        services.deactivate_organization(organization, current_user)
    except DomainError as refusal:
        db.session.rollback()
        flash(refusal.message, "error")
        return _organization_page(organization, _organization_form(organization, submitted=False),
                                  status=refusal.status)
    return _done(_("%(name)s is deactivated: its people cannot sign in.", name=organization.name),
                 ".organization", organization_id=organization.id)


@bp.post(f"/organizations/<{ID}:organization_id>/reactivate")
def reactivate_organization(organization_id: int):
    organization = _load(Organization, organization_id)
    _require_action_form()
    services.reactivate_organization(organization)
    return _done(_("%(name)s is active again.", name=organization.name),
                 ".organization", organization_id=organization.id)


# --- shelters and their pools ----------------------------------------------------------------

@bp.get("/shelters")
def shelters():
    page = db.paginate(services.shelters_query(), page=_page_number(), per_page=PER_PAGE, error_out=False)
    return render_template("admin/shelters.html", page=page)


def _shelter_form(shelter: Shelter | None = None, submitted: bool | None = None) -> ShelterForm:
    """The shelter form: what was posted, or else the shelter as it is (or a blank one)."""
    if submitted is None:
        submitted = request.method == "POST"
    if submitted:
        form = ShelterForm()
    else:
        data = {}
        if shelter is not None:
            data = {"organization": shelter.organization_id, "region": shelter.region_id, "name": shelter.name,
                    "address": shelter.address, "phone": shelter.phone, "status": shelter.status,
                    "languages": list(shelter.languages), "services": list(shelter.services),
                    "accessibility": shelter.accessibility}
        form = ShelterForm(formdata=None, data=data)
    form.organization.choices = _organization_choices()
    form.region.choices = _region_choices()
    return form


def _shelter_values(form: ShelterForm) -> dict:
    return {"organization_id": form.organization.data, "region_id": form.region.data, "name": form.name.data,
            "address": form.address.data, "phone": form.phone.data, "status": form.status.data,
            "languages": form.languages.data, "services": form.services.data or [],
            "accessibility": form.accessibility.data}


@bp.route("/shelters/new", methods=["GET", "POST"])
def new_shelter():
    form = _shelter_form()
    return submit(form, lambda: services.create_shelter(**_shelter_values(form)),
                  lambda shelter: back_to(_("Shelter %(name)s created; now add its bed pools.", name=shelter.name),
                                          ".shelter", shelter_id=shelter.id),
                  lambda: render_template("admin/shelter_new.html", form=form))


def _shelter_page(shelter: Shelter, form: ShelterForm | None = None, pool_form: PoolForm | None = None,
                  status: int = 200):
    return render_template("admin/shelter.html", shelter=shelter,
                           form=form or _shelter_form(shelter, submitted=False),
                           pool_form=pool_form or PoolForm(formdata=None)), status


@bp.route(f"/shelters/<{ID}:shelter_id>", methods=["GET", "POST"])
def shelter(shelter_id: int):
    shelter = _load(Shelter, shelter_id)
    form = _shelter_form(shelter)
    return submit(form, lambda: services.update_shelter(shelter, **_shelter_values(form)),
                  lambda _saved: back_to(_("Shelter %(name)s saved.", name=shelter.name), ".shelter",
                                         shelter_id=shelter.id),
                  lambda: _shelter_page(shelter, form=form))


@bp.post(f"/shelters/<{ID}:shelter_id>/pools")
def add_pool(shelter_id: int):
    shelter = _load(Shelter, shelter_id)
    form = PoolForm()
    return submit(form, lambda: services.add_pool(shelter, current_user, form.label.data, form.admits_sex.data,
                                                  form.min_age.data, form.max_age.data, form.capacity.data),
                  lambda pool: back_to(_("Pool %(label)s added.", label=pool.label), ".shelter",
                                       shelter_id=shelter.id),
                  lambda: _shelter_page(shelter, pool_form=form))


@bp.route(f"/shelters/<{ID}:shelter_id>/pools/<{ID}:pool_id>", methods=["GET", "POST"])
def pool(shelter_id: int, pool_id: int):
    pool = _load(BedPool, pool_id)
    if pool.shelter_id != shelter_id:
        abort(404)
    if request.method == "GET":
        form = PoolForm(formdata=None, obj=pool)
    else:
        form = PoolForm()
    return submit(form, lambda: services.update_pool(pool, current_user, form.label.data, form.admits_sex.data,
                                                     form.min_age.data, form.max_age.data, form.capacity.data),
                  lambda _saved: back_to(_("Pool %(label)s saved.", label=pool.label), ".shelter",
                                         shelter_id=shelter_id),
                  lambda: render_template("admin/pool.html", form=form, pool=pool, shelter=pool.shelter))


# --- users -----------------------------------------------------------------------------------

@bp.get("/users")
def users():
    form = UserFilterForm(formdata=request.args)
    form.organization.choices = options([("", _("Any organization"))] + [
        (str(choice.value), choice.label) for choice in _organization_choices()])
    status, page = 200, None
    if form.validate():
        query = services.users_query(
            organization_id=int(form.organization.data) if form.organization.data else None,
            role=form.role.data or None)
        page = db.paginate(query, page=form.page.data or 1, per_page=PER_PAGE, error_out=False)
    else:
        status = 400
    paused = accounts.paused_counts(user.id for user in page.items) if page is not None else {}
    return page_or_fragment("admin/users.html", "admin/_users_list.html", status=status, form=form, page=page,
                            paused=paused)


@bp.route("/users/new", methods=["GET", "POST"])
def new_user():
    form = NewUserForm()
    form.organization.choices = _organization_choices()
    return submit(form, lambda: services.create_account(form.email.data, form.name.data, form.role.data,
                                                        form.organization.data),
                  lambda new: _one_time_password_page(*new, created=True),
                  lambda: render_template("admin/user_new.html", form=form))


def _user_page(user: User, form: EditUserForm | None = None, status: int = 200):
    if form is None:
        form = EditUserForm(formdata=None, data={"name": user.name, "role": user.role,
                                                 "organization": user.organization_id, "active": user.active})
        form.organization.choices = _organization_choices()
    return render_template("admin/user.html", user=user, form=form, action_form=ActionForm(),
                           paused=accounts.paused_addresses(user),
                           failures_counted=bool(accounts.failed_sign_ins(user))), status


@bp.route(f"/users/<{ID}:user_id>", methods=["GET", "POST"])
def user(user_id: int):
    user = _load(User, user_id)
    if request.method == "GET":
        return _user_page(user)
    form = EditUserForm()
    form.organization.choices = _organization_choices()
    return submit(form, lambda: services.update_user(user, current_user, form.name.data, form.role.data,
                                                     form.organization.data, form.active.data),
                  lambda _saved: back_to(_("%(name)s saved.", name=user.name), ".user", user_id=user.id),
                  lambda: _user_page(user, form))


def _user_action(user_id: int, act, message: str):
    """A button on the user's page: one service call, then back to the page with what happened,
    or the page again with the reason it was refused."""
    user = _load(User, user_id)
    _require_action_form()
    try:
        act(user)
    except DomainError as refusal:
        db.session.rollback()
        flash(refusal.message, "error")
        return _user_page(user, status=refusal.status)
    return _done(message % {"name": user.name}, ".user", user_id=user.id)


@bp.post(f"/users/<{ID}:user_id>/deactivate")
def deactivate_user(user_id: int):
    return _user_action(user_id, lambda user: services.deactivate_user(user, current_user),
                        _("%(name)s is deactivated and signed out everywhere."))


@bp.post(f"/users/<{ID}:user_id>/reactivate")
def reactivate_user(user_id: int):
    return _user_action(user_id, services.reactivate_user, _("%(name)s may sign in again."))


@bp.post(f"/users/<{ID}:user_id>/unlock")
def unlock_user(user_id: int):
    return _user_action(user_id, services.unlock_user,
                        _("Sign-ins to the account of %(name)s are no longer paused from any address."))


@bp.post(f"/users/<{ID}:user_id>/reset-password")
def reset_password(user_id: int):
    user = _load(User, user_id)
    _require_action_form()
    try:
        temporary = services.reset_user_password(user, current_user)
    except DomainError as refusal:
        db.session.rollback()
        flash(refusal.message, "error")
        return _user_page(user, status=refusal.status)
    db.session.commit()
    return _one_time_password_page(user, temporary, created=False)


# --- security --------------------------------------------------------------------------------

@bp.route("/security", methods=["GET", "POST"])
def security():
    form = SecurityForm() if request.method == "POST" else SecurityForm(
        formdata=None, data={"require_totp": sorted(services.two_factor_roles())})
    return submit(form, lambda: services.set_two_factor_roles(form.require_totp.data or []),
                  lambda _saved: back_to(_("Two-factor settings saved; they apply from each person's next sign-in."),
                                         ".security"),
                  lambda: render_template("admin/security.html", form=form))
