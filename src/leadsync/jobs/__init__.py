"""Durable background jobs: bulk imports and exports, queued in the database, run by a
runner inside each server process (``runner.JobRunner``), their files on disk (``files``)."""
