-- Owners and admins can put the first-run checklist on My Tasks away.
ALTER TABLE users ADD COLUMN checklist_dismissed_at BIGINT;
