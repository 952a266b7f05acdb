-- job_runs becomes a log: one row per run of a job, with the node that ran it, pruned after 30
-- days by the jobs themselves, so an operator of many nodes sees which node ran what.
CREATE TABLE job_runs_log (
    job         TEXT    NOT NULL,
    finished_at TEXT    NOT NULL, -- RFC 3339, UTC
    items       INTEGER NOT NULL,
    node        TEXT    NOT NULL DEFAULT ''
);
INSERT INTO job_runs_log (job, finished_at, items) SELECT job, finished_at, items FROM job_runs;
DROP TABLE job_runs;
ALTER TABLE job_runs_log RENAME TO job_runs;
CREATE INDEX job_runs_job_finished ON job_runs (job, finished_at);
