"""The JSON API under /api/v1: token authentication, reads of the bed board and the caller's
referrals, and writes through the same operations as the pages (see README, "API")."""
