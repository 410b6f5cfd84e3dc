"""The kinds of bulk job and the queues they share (Marketo's limits, spec §5.5)."""

from __future__ import annotations

from leadsync.store.jobs import QueueLimit

IMPORT = "import"
LEADS_EXPORT = "leads_export"
ACTIVITIES_EXPORT = "activities_export"
EXPORTS = (LEADS_EXPORT, ACTIVITIES_EXPORT)

#: 2 imports at once, 10 queued or importing per instance (1016 beyond).
IMPORT_QUEUE = QueueLimit((IMPORT,), waiting=10, running=2)
#: 2 exports processing, 10 queued or processing per instance (1029 beyond).
EXPORT_QUEUE = QueueLimit(EXPORTS, waiting=10, running=2)
QUEUES = (IMPORT_QUEUE, EXPORT_QUEUE)
#: What fault rules name a job's run by (``op=importLeadJob,code=1003``: the job fails;
#: ``op=importLeadJob,delay=60s``: it stays Queued that long first).
JOB_OPERATIONS = {
    IMPORT: "importLeadJob",
    LEADS_EXPORT: "exportLeadsJob",
    ACTIVITIES_EXPORT: "exportActivitiesJob",
}
#: A job whose runner died this many times ends failed rather than being run again.
MAX_ATTEMPTS = 3
#: A job id stays valid this long (Marketo's batchId: 7 days).
KEEP_DAYS = 7
