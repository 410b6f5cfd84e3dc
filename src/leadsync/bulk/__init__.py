"""The bulk API's wire (``/bulk/v1/...``): lead import and lead and activity export jobs.

Handlers register with the REST API's ``@endpoint`` table (``rest.routes``) and translate
only; what a job does lives in ``operations.bulk_import`` and ``operations.bulk_extract``,
the queue in ``jobs``.
"""
