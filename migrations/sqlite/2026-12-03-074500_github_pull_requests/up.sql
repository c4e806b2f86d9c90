-- Whether a company's GitHub integration brings in pull requests besides issues.
ALTER TABLE company_integrations ADD COLUMN include_pull_requests BOOLEAN NOT NULL DEFAULT TRUE;
