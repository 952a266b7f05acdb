-- Owner sessions moved to the write model (see internal/admin): the read model holds only what
-- can be rebuilt from the write model. Owners log in once more after this upgrade.
DROP TABLE admin_sessions;
