-- Admission writes the counters only if they are still the version it decided on
-- (store/postgres_control.py): no lock held between the read and the write.
ALTER TABLE limit_usage ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
