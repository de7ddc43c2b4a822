-- Migration 0004 (import-django): the Django origin's primary key of an organization, a
-- UUID, where this schema's keys are integers. The import matches organizations on it, so a
-- rename at the origin renames here too; NULL for organizations made here (`admin org add`).
ALTER TABLE users_orgaccount ADD COLUMN django_uuid TEXT;
CREATE UNIQUE INDEX IF NOT EXISTS users_orgaccount_django_uuid ON users_orgaccount (django_uuid);
