"""Keeps the org-token-edge Worker's copy of users, organizations, memberships and social
accounts current: every committed change goes through an outbox to the edge's sync receiver
(docs/sync.md)."""
