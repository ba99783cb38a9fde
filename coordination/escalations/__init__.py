"""Referrals that wait on someone longer than their urgency allows, escalated step by step."""
