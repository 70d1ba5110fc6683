"""The v1 write API, compatible with Statuspage's management API.

Every route lives under ``/api/v1/pages/<page_id>/`` and answers with or without a
``.json`` suffix, as Statuspage's do. Token auth only, so CSRF does not apply.
"""

from statuspage.api import components, extras, incidents, openapi, pages  # noqa: F401  (routes)
from statuspage.api.routing import bp

__all__ = ["bp"]
