"""What the people who watch the system see: the situation overview and the reports."""
