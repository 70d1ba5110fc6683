from statuspage.admin import (  # noqa: F401  (each module registers its views on bp)
    audit,
    components,
    incident_templates,
    incidents,
    maintenance,
    settings,
    users,
)
from statuspage.admin.routes import bp

__all__ = ["bp"]
