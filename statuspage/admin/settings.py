"""The page's settings: its name and time zone, which roles need a second factor, and how
often incidents promise updates."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from statuspage import branding, two_factor
from statuspage.admin.access import require
from statuspage.admin.forms import (
    BrandingForm,
    CadenceForm,
    NoticesForm,
    PageForm,
    TwoFactorRolesForm,
)
from statuspage.admin.routes import UNPROCESSABLE, bp, show_errors
from statuspage.errors import ValidationError
from statuspage.extensions import db
from statuspage.incidents import intervals, notices
from statuspage.models import Page, Role
from statuspage.page_settings import time_zones, update_page


@bp.route("/settings", methods=["GET", "POST"])
@require(Role.ADMIN)
def settings() -> ResponseReturnValue:
    page = Page.get()
    db.session.commit()  # the first visit creates the page row; keep its id
    form = PageForm(obj=page) if request.method == "GET" else PageForm()
    if form.validate_on_submit():
        try:
            update_page(
                actor=current_user,
                name=form.name.data,
                time_zone=form.time_zone.data,
                default_language=form.default_language.data or None,
            )
        except ValidationError as exc:
            show_errors(form, exc)
        else:
            flash("Settings saved; the page is being re-published.", "ok")
            return redirect(url_for("admin.settings"))
    status = UNPROCESSABLE if request.method == "POST" else 200
    return _page(form, status)


def _page(  # type: ignore[no-untyped-def]
    form: PageForm,
    status: int,
    roles_form: TwoFactorRolesForm | None = None,
    cadence_form: CadenceForm | None = None,
    notices_form: NoticesForm | None = None,
    branding_form: BrandingForm | None = None,
):
    if roles_form is None:
        roles_form = TwoFactorRolesForm(roles=sorted(two_factor.required_roles()))
    return render_template(
        "admin/settings.html",
        form=form,
        roles_form=roles_form,
        cadence_form=cadence_form or _cadence_form(),
        notices_form=notices_form
        or NoticesForm(data={"offsets": notices.offsets_text(notices.offsets())}),
        branding_form=branding_form or _branding_form(),
        page=Page.get(),
        zones=time_zones(),
    ), status


def _branding_form() -> BrandingForm:
    page = Page.get()
    links = "\n".join(f"{link['label']} | {link['url']}" for link in page.footer_links or [])
    return BrandingForm(
        data={
            "brand_colour": page.brand_colour,
            "footer_links": links,
            "custom_css": page.custom_css,
        }
    )


@bp.post("/settings/branding")
@require(Role.ADMIN)
def branding_settings() -> ResponseReturnValue:
    """Logo, favicon, colour, footer links and CSS, all checked before any is stored."""
    form = BrandingForm()
    if form.validate_on_submit():
        logo, favicon = form.logo.data, form.favicon.data
        try:
            branding.save(
                actor=current_user,
                colour=form.brand_colour.data or "",
                links=form.footer_links.data or "",
                css=form.custom_css.data or "",
                logo=logo.read(branding.MAX_LOGO + 1) if logo else None,
                favicon=favicon.read(branding.MAX_FAVICON + 1) if favicon else None,
                remove_logo=form.remove_logo.data,
                remove_favicon=form.remove_favicon.data,
            )
        except ValidationError as exc:
            show_errors(form, exc)
        else:
            flash("Branding saved; the page is being re-published.", "ok")
            return redirect(url_for("admin.settings"))
    return _page(PageForm(obj=Page.get()), UNPROCESSABLE, branding_form=form)


def _cadence_form() -> CadenceForm:
    """The table in force, so the form shows what incidents promise now."""
    page = Page.get()
    values = {
        intervals.field_name(impact, status): minutes
        for impact, row in intervals.table(page).items()
        for status, minutes in row.items()
    }
    return CadenceForm(data={**values, "overdue_repeat_minutes": page.overdue_repeat_minutes})


@bp.post("/settings/cadence")
@require(Role.ADMIN)
def cadence() -> ResponseReturnValue:
    """Intervals apply from each incident's next update; promises made stand."""
    form = CadenceForm()
    if form.validate_on_submit():
        try:
            intervals.save(
                actor=current_user, values=form.data, repeat=form.overdue_repeat_minutes.data
            )
        except ValidationError as exc:
            show_errors(form, exc)
        else:
            flash("Update intervals saved; they apply from each incident's next update.", "ok")
            return redirect(url_for("admin.settings"))
    return _page(PageForm(obj=Page.get()), UNPROCESSABLE, cadence_form=form)


@bp.post("/settings/two-factor")
@require(Role.ADMIN)
def two_factor_roles() -> ResponseReturnValue:
    """Users of the chosen roles are sent to set up a second factor after signing in."""
    form = TwoFactorRolesForm()
    if form.validate_on_submit():
        two_factor.set_required_roles(form.roles.data or [], current_user)
        flash("Second factor requirement saved.", "ok")
        return redirect(url_for("admin.settings"))
    return _page(PageForm(obj=Page.get()), UNPROCESSABLE, form)


@bp.post("/settings/notices")
@require(Role.ADMIN)
def maintenance_notices() -> ResponseReturnValue:
    """When subscribers and channels are reminded of a maintenance before it starts."""
    form = NoticesForm()
    if form.validate_on_submit():
        try:
            notices.save_offsets(actor=current_user, text=form.offsets.data or "")
        except ValidationError as exc:
            form.offsets.errors = list(exc.errors.values())
        else:
            flash("Maintenance notices saved.", "ok")
            return redirect(url_for("admin.settings"))
    return _page(PageForm(obj=Page.get()), UNPROCESSABLE, notices_form=form)
