DROP INDEX time_entries_company;
CREATE INDEX time_entries_company ON time_entries(company_id, started_at);
DROP INDEX time_entries_company_running;
DROP INDEX time_entries_running;
