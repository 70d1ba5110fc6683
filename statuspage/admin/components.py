"""Components and groups: names, order, descriptions and statuses set by hand."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from statuspage.admin.access import require
from statuspage.admin.forms import ActionForm, ComponentForm, GroupForm, StatusForm
from statuspage.admin.routes import UNPROCESSABLE, bp, components_by_group, show_errors
from statuspage.errors import NotFound, ValidationError
from statuspage.extensions import db
from statuspage.incidents import components as service
from statuspage.incidents.workflow import Conflict
from statuspage.models import Component, ComponentGroup, Role


def _group_choices() -> list[tuple[str, str]]:
    groups = db.session.scalars(db.select(ComponentGroup).order_by(ComponentGroup.position))
    return [("", "No group"), *((g.id, g.name) for g in groups)]


def _component_fields(form: ComponentForm) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "name": form.name.data,
        "description": form.description.data,
        "group_id": form.group_id.data or None,
        "status": form.status.data,
        "showcase": form.showcase.data,
        "only_show_if_degraded": form.only_show_if_degraded.data,
    }
    if form.position.data is not None:
        fields["position"] = form.position.data
    return fields


def _listing(**forms: Any) -> str:
    component_form = forms.pop("component_form", None) or ComponentForm()
    component_form.group_id.choices = _group_choices()
    return render_template(
        "admin/components.html",
        groups=components_by_group(),
        all_groups=db.session.scalars(
            db.select(ComponentGroup).order_by(ComponentGroup.position)
        ).all(),
        component_form=component_form,
        group_form=forms.pop("group_form", None) or GroupForm(),
        status_form=StatusForm(),
        action_form=ActionForm(),
    )


@bp.get("/components")
@require(Role.ADMIN)
def components() -> ResponseReturnValue:
    return _listing()


@bp.post("/components")
@require(Role.ADMIN)
def create_component() -> ResponseReturnValue:
    form = ComponentForm()
    form.group_id.choices = _group_choices()
    if form.validate_on_submit():
        try:
            service.create_component(actor=current_user, fields=_component_fields(form))
        except ValidationError as exc:
            show_errors(form, exc)
        else:
            flash(f"Component {form.name.data} created.", "ok")
            return redirect(url_for("admin.components"))
    return _listing(component_form=form), UNPROCESSABLE


@bp.route("/components/<component_id>", methods=["GET", "POST"])
@require(Role.ADMIN)
def edit_component(component_id: str) -> ResponseReturnValue:
    component = db.session.get(Component, component_id)
    if component is None:
        abort(404)
    form = ComponentForm(obj=component) if request.method == "GET" else ComponentForm()
    form.group_id.choices = _group_choices()
    if request.method == "GET":
        form.group_id.data = component.group_id or ""
    if form.validate_on_submit():
        try:
            service.update_component(
                actor=current_user, component_id=component.id, fields=_component_fields(form)
            )
        except ValidationError as exc:
            show_errors(form, exc)
        else:
            flash(f"Component {form.name.data} saved.", "ok")
            return redirect(url_for("admin.components"))
    status = UNPROCESSABLE if request.method == "POST" else 200
    return render_template(
        "admin/component_edit.html", form=form, component=component, action_form=ActionForm()
    ), status


@bp.post("/components/<component_id>/status")
@require(Role.ADMIN)
def set_component_status(component_id: str) -> ResponseReturnValue:
    """A status set by hand, outside any incident; it is recorded and published."""
    form = StatusForm()
    if not form.validate_on_submit():
        flash("Choose one of the listed statuses.", "error")
        return _listing(), UNPROCESSABLE
    try:
        service.update_component(
            actor=current_user, component_id=component_id, fields={"status": form.status.data}
        )
    except NotFound:
        abort(404)
    flash("Status changed; it is being published.", "ok")
    return redirect(url_for("admin.components"))


@bp.post("/components/<component_id>/delete")
@require(Role.ADMIN)
def delete_component(component_id: str) -> ResponseReturnValue:
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        service.delete_component(actor=current_user, component_id=component_id)
    except NotFound:
        abort(404)
    except Conflict as exc:
        flash(f"Not deleted: {exc}.", "error")
        return redirect(url_for("admin.edit_component", component_id=component_id)), 303
    flash("Component deleted.", "ok")
    return redirect(url_for("admin.components"))


@bp.post("/groups")
@bp.post("/groups/<group_id>")
@require(Role.ADMIN)
def save_group(group_id: str | None = None) -> ResponseReturnValue:
    form = GroupForm()
    if form.validate_on_submit():
        try:
            service.save_group(
                actor=current_user,
                name=form.name.data,
                description=form.description.data,
                position=form.position.data,
                group_id=group_id,
            )
        except NotFound:
            abort(404)
        except ValidationError as exc:
            show_errors(form, exc)
        else:
            flash(f"Group {form.name.data} saved.", "ok")
            return redirect(url_for("admin.components"))
    return _listing(group_form=form), UNPROCESSABLE


@bp.post("/groups/<group_id>/delete")
@require(Role.ADMIN)
def delete_group(group_id: str) -> ResponseReturnValue:
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        service.delete_group(actor=current_user, group_id=group_id)
    except NotFound:
        abort(404)
    flash("Group deleted; its components are now ungrouped.", "ok")
    return redirect(url_for("admin.components"))
