"""Imports every model, so metadata and migrations see the whole schema."""
from .accounts.models import (Organization, PendingSignIn, Region, RolePolicy, SignInPause,  # noqa: F401
                              TotpEnrolment, User)
from .api.models import ApiToken  # noqa: F401
from .audit.models import AuditEvent, AuditHead  # noqa: F401
from .beds.models import BedPool, BedUpdate, Shelter  # noqa: F401
from .escalations.models import Escalation  # noqa: F401
from .notifications.models import Notification, OutgoingMail  # noqa: F401
from .referrals.models import (CaseNote, Child, Referral, ReferralEvent, ReferralGroup,  # noqa: F401
                                SiblingGroup)
