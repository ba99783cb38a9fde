"""The national directory: the shelters and bed pools as Open Referral's Human Services Data
Specification (HSDS 3.1) for other systems to read, and a ministry's registry loaded in one step."""
