-- My Tasks lists a person's open tasks by tool, project, dated tasks first (soonest
-- first), then id. With the index in that very order (`due_on IS NULL` as a column of
-- its own, and the id before the status), a page reads its rows in order and stops at
-- the page's end: no sort, and no reading every open task for the first 50. The
-- status stays in the index, so the filter values still come from it alone.
DROP INDEX tasks_mine;
CREATE INDEX tasks_mine ON tasks(user_id, archived, provider, project, (due_on IS NULL), due_on, id, status);
