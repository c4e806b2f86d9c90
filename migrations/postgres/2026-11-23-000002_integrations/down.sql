DROP TABLE connections;
DROP TABLE company_integrations;
