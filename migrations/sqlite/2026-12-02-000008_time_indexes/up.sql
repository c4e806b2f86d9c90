-- Indexes found missing by the time-tracking benchmark (docs/benchmarks.md, point 6).
--
-- Running timers by company and by person. A report reads the running timers that
-- started before its range (`models::report::running_before`: company, `ended_at IS
-- NULL`, `started_at` before the range). SQLite served that from `time_entries_company`
-- and read every entry the company ever had before the range (95,000 rows for a year
-- of 50 people, on every report and export); PostgreSQL from `time_entries_one_running`,
-- every running timer of every company. The shell's running timer (`models::
-- time_entry::running`: company and person, on every page) was read on SQLite through
-- `time_entries_person`, every entry the person ever had. Both partial indexes hold
-- only running entries, at most one per person.
CREATE INDEX time_entries_running ON time_entries(company_id, user_id, started_at) WHERE ended_at IS NULL;
CREATE INDEX time_entries_company_running ON time_entries(company_id, started_at) WHERE ended_at IS NULL;
