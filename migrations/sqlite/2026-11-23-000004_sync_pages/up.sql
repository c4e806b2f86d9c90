-- What the sync engine remembers of each page of a connection's tasks, for conditional
-- requests: the page's ETag, the tool's ids on it and the cursor after it. A page the
-- tool answers 304 is then known without its body. `page_key` is '' for the first page,
-- else a hash of the cursor that asks for it.
CREATE TABLE sync_pages (
    connection_id BIGINT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    page_key TEXT NOT NULL,
    etag TEXT NOT NULL,
    next_cursor TEXT,
    external_ids TEXT NOT NULL,
    PRIMARY KEY (connection_id, page_key)
);
