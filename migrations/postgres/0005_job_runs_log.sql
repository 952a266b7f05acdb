-- job_runs becomes a log: one row per run of a job, with the node that ran it, pruned after 30
-- days by the jobs themselves, so an operator of many nodes sees which node ran what.
ALTER TABLE job_runs DROP CONSTRAINT job_runs_pkey;
ALTER TABLE job_runs ADD COLUMN node TEXT NOT NULL DEFAULT '';
CREATE INDEX job_runs_job_finished ON job_runs (job, finished_at);
