"""Third-party components: vendors' Statuspage-v2 pages followed and mirrored on ours."""
