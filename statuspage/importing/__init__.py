"""Moving a page over from Atlassian Statuspage through its v1 management API."""
