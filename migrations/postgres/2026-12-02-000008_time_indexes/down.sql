DROP INDEX time_entries_company_running;
DROP INDEX time_entries_running;
