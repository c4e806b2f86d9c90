ALTER TABLE users DROP COLUMN checklist_dismissed_at;
