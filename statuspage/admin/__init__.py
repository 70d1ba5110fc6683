from statuspage.admin import (  # noqa: F401  (each module registers its views on bp)
    account,
    audit,
    components,
    display,
    first_post,
    incident_templates,
    incidents,
    integrations,
    maintenance,
    navigation,
    previews,
    settings,
    signin,
    subscribers,
    upstreams,
    users,
)
from statuspage.admin.routes import bp

__all__ = ["bp"]
