"""Imports every model, so metadata and migrations see the whole schema."""
from .accounts.models import Organization, Region, RolePolicy, User  # noqa: F401
from .audit.models import AuditEvent, AuditHead  # noqa: F401
from .beds.models import BedPool, BedUpdate, Shelter  # noqa: F401
from .notifications.models import Notification  # noqa: F401
from .referrals.models import Child, Referral, ReferralEvent  # noqa: F401
