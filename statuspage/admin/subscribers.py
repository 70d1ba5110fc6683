"""Subscribers (admins only): find, remove, resend a confirmation, export and import CSV."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from statuspage.admin.access import require
from statuspage.admin.forms import ActionForm, SubscriberFilterForm, SubscriberImportForm
from statuspage.admin.routes import UNPROCESSABLE, bp, components_by_group
from statuspage.errors import NotFound, ValidationError
from statuspage.extensions import db
from statuspage.lib.clock import now
from statuspage.models import Role, Subscriber
from statuspage.models.audit import record
from statuspage.subscriptions import roster, service, transfer


def _filters() -> tuple[SubscriberFilterForm, roster.Filters | None]:
    form = SubscriberFilterForm(request.args)
    form.component.choices = [SelectChoice("", "Any component")] + [
        SelectChoice(c.id, c.name) for _, group in components_by_group() for c in group
    ]
    if not form.validate():
        return form, None
    return form, roster.Filters(
        query=form.q.data or "", component=form.component.data or "", state=form.state.data or ""
    )


def _page(import_form: SubscriberImportForm | None = None, **extra: object) -> ResponseReturnValue:
    form, filters = _filters()
    subscribers, total = roster.listing(filters, form.page.data or 1) if filters else ([], 0)
    page = form.page.data or 1
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "admin/subscribers.html",
        form=form,
        import_form=import_form or SubscriberImportForm(),
        subscribers=subscribers,
        total=total,
        first=(page - 1) * roster.PAGE_SIZE + 1,
        newer=dict(args, page=page - 1) if page > 1 else None,
        older=dict(args, page=page + 1) if page * roster.PAGE_SIZE < total else None,
        export_args=args,
        email_available=service.email_available(),
        **extra,
    ), (200 if filters else UNPROCESSABLE)


@bp.get("/subscribers")
@require(Role.ADMIN)
def subscribers() -> ResponseReturnValue:
    return _page()


@bp.get("/subscribers.csv")
@require(Role.ADMIN)
def export_subscribers() -> ResponseReturnValue:
    """The matching subscribers (all by default) as CSV; the export itself is audited."""
    form, filters = _filters()
    if filters is None:
        abort(400)
    count = db.session.scalar(
        select(db.func.count()).select_from(roster.matching(filters).subquery())
    )
    record(current_user, "subscriber.export", "subscriber", "*", None, {"count": count})
    db.session.commit()
    rows = db.session.scalars(roster.matching(filters).order_by(Subscriber.id)).yield_per(500)
    name = f"subscribers-{now():%Y%m%d-%H%M}.csv"
    return Response(
        transfer.export_rows(rows),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.post("/subscribers/import")
@require(Role.ADMIN)
def import_subscribers() -> ResponseReturnValue:
    form = SubscriberImportForm()
    if not form.validate_on_submit():
        return _page(form)
    upload = form.file.data
    try:
        data = upload.read(transfer.MAX_BYTES + 1)  # enough to tell that it is too large
    finally:
        upload.close()
    try:
        report = transfer.import_csv(actor=current_user, data=data)
    except transfer.ImportRefused as refused:
        db.session.rollback()
        return _page(form, refused=refused)
    flash(
        f"Imported {report.confirmed} confirmed, {report.waiting} sent a confirmation; "
        f"{report.existing} already subscribed, left as they were.",
        "ok",
    )
    return redirect(url_for("admin.subscribers"))


def _act(action, done: str) -> ResponseReturnValue:  # type: ignore[no-untyped-def]
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        subscriber = action()
    except NotFound:
        abort(404)
    except ValidationError as exc:
        db.session.rollback()
        flash("; ".join(exc.errors.values()), "error")
    else:
        flash(done.format(subscriber.shown_address), "ok")
    back = request.form.get("next", "")
    listing = url_for("admin.subscribers")
    return redirect(back if back.startswith(listing + "?") else listing)


@bp.post("/subscribers/<int(max=2147483647):subscriber_id>/delete")
@require(Role.ADMIN)
def remove_subscriber(subscriber_id: int) -> ResponseReturnValue:
    return _act(
        lambda: roster.remove(actor=current_user, subscriber_id=subscriber_id), "Removed {}."
    )


@bp.post("/subscribers/<int(max=2147483647):subscriber_id>/resend")
@require(Role.ADMIN)
def resend_confirmation(subscriber_id: int) -> ResponseReturnValue:
    return _act(
        lambda: roster.resend_confirmation(actor=current_user, subscriber_id=subscriber_id),
        "Confirmation sent again to {}.",
    )
