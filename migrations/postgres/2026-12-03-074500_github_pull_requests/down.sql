ALTER TABLE company_integrations DROP COLUMN include_pull_requests;
