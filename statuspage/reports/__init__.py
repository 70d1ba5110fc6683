"""The public "Report a problem" form, served by the app (the published snapshot is
static); reports land in the listening inbox."""

from statuspage.reports.routes import bp

__all__ = ["bp"]
