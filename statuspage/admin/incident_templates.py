"""Incident templates: the prepared messages responders pick from."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from statuspage.admin.access import require
from statuspage.admin.forms import ActionForm, TemplateForm
from statuspage.admin.routes import UNPROCESSABLE, bp, show_errors
from statuspage.errors import NotFound, ValidationError
from statuspage.extensions import db
from statuspage.incidents import templates as service
from statuspage.models import IncidentTemplate, Role


@bp.route("/templates", methods=["GET", "POST"])
@bp.route("/templates/<int(max=2147483647):template_id>", methods=["GET", "POST"])
@require(Role.RESPONDER)
def templates(template_id: int | None = None) -> ResponseReturnValue:
    existing = db.session.get(IncidentTemplate, template_id) if template_id else None
    if template_id and existing is None:
        abort(404)
    form = TemplateForm(obj=existing) if request.method == "GET" else TemplateForm()
    if form.validate_on_submit():
        try:
            service.save(
                actor=current_user,
                name=form.name.data,
                title=form.title.data,
                status=form.status.data,
                body=form.body.data,
                template_id=template_id,
            )
        except ValidationError as exc:
            show_errors(form, exc)
        else:
            flash("Template saved.", "ok")
            return redirect(url_for("admin.templates"))
    status = UNPROCESSABLE if request.method == "POST" else 200
    return render_template(
        "admin/templates.html",
        form=form,
        editing=existing,
        listing=service.all_templates(),
        action_form=ActionForm(),
    ), status


@bp.post("/templates/<int(max=2147483647):template_id>/delete")
@require(Role.RESPONDER)
def delete_template(template_id: int) -> ResponseReturnValue:
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        service.delete(actor=current_user, template_id=template_id)
    except NotFound:
        abort(404)
    flash("Template deleted.", "ok")
    return redirect(url_for("admin.templates"))
