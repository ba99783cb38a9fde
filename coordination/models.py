"""Imports every model, so metadata and migrations see the whole schema."""
from .accounts.models import Organization, Region, User  # noqa: F401
from .beds.models import BedPool, BedUpdate, Shelter  # noqa: F401
