DROP TABLE sync_pages;
