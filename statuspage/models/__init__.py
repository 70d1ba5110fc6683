"""All tables, imported together so Alembic and the app see one complete metadata."""

from statuspage.models.accounts import (
    ApiToken,
    LoginAttempt,
    RecoveryCode,
    Role,
    User,
    UserSession,
)
from statuspage.models.audit import AuditEvent
from statuspage.models.channels import (
    AlertKind,
    Channel,
    ChannelKind,
    ChannelThread,
    OperatorAlert,
)
from statuspage.models.components import (
    ChangeCause,
    Component,
    ComponentGroup,
    ComponentStatus,
    ComponentStatusChange,
    PublishRequest,
)
from statuspage.models.delivery import BatchRow, Delivery, DeliveryState, TargetKind
from statuspage.models.imports import ImportedRecord
from statuspage.models.inbox import (
    InboxItem,
    InboxReply,
    InboxState,
    ItemKind,
    ListeningSource,
    ReplyKind,
    ReplyTemplate,
)
from statuspage.models.incidents import (
    AffectedComponent,
    Impact,
    Incident,
    IncidentStatus,
    IncidentTemplate,
    IncidentUpdate,
    IncidentUpdateRevision,
    MaintenanceNotice,
)
from statuspage.models.integrations import (
    AlertRule,
    AlertStatus,
    DraftSource,
    DraftState,
    IncidentDraft,
    IntakeLogEntry,
    Integration,
    IntegrationKind,
    ReceivedAlert,
    RuleMode,
)
from statuspage.models.metrics import MetricRollup
from statuspage.models.page import Page
from statuspage.models.sms import SmsMonth
from statuspage.models.subscribers import Subscriber, SubscriberKind
from statuspage.models.upstreams import Upstream, UpstreamComponent

__all__ = [
    "MaintenanceNotice",
    "AlertRule",
    "AlertStatus",
    "DraftSource",
    "DraftState",
    "IncidentDraft",
    "IntakeLogEntry",
    "Integration",
    "IntegrationKind",
    "ReceivedAlert",
    "RuleMode",
    "AlertKind",
    "Channel",
    "ChannelKind",
    "ChannelThread",
    "OperatorAlert",
    "SmsMonth",
    "Subscriber",
    "SubscriberKind",
    "AffectedComponent",
    "ApiToken",
    "AuditEvent",
    "ChangeCause",
    "Component",
    "ComponentGroup",
    "ComponentStatus",
    "ComponentStatusChange",
    "BatchRow",
    "Delivery",
    "DeliveryState",
    "Impact",
    "InboxItem",
    "InboxReply",
    "InboxState",
    "ImportedRecord",
    "ItemKind",
    "ListeningSource",
    "ReplyKind",
    "ReplyTemplate",
    "Incident",
    "IncidentStatus",
    "IncidentTemplate",
    "IncidentUpdate",
    "IncidentUpdateRevision",
    "LoginAttempt",
    "RecoveryCode",
    "MetricRollup",
    "Page",
    "PublishRequest",
    "Role",
    "TargetKind",
    "Upstream",
    "UpstreamComponent",
    "User",
    "UserSession",
]
