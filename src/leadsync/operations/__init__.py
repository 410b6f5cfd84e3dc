"""What Marketo does, independent of any wire: every business rule lives in this package.

Where each rule is:

- ``sync``: syncMultipleLeads and every later upsert: key precedence (Id, then
  ForeignSysPersonId, then Email), email de-duplication (``_Resolver._newest_by_email``),
  field merge, per-record CREATED/UPDATED/FAILED outcomes.
- ``sync_lead``: syncLead's differences from ``sync`` (cookie key, returnLead).
- ``fields``: the field catalogue and typing of values (``check_characters``: only what
  XML 1.0 can carry is stored).
- ``text``: ``plain_text``, the one rule for text (blank clears), compiled when it can be.
- ``keys``: naming leads by LeadKey (IDNUM, EMAIL, COOKIE, SFDC*) and finding them.
- ``reads``: getLead and getMultipleLeads selectors and paging.
- ``merge``, ``lists``: mergeLeads and static lists.
- ``activities``, ``history``: the activity records written and how they are read back.
- ``describe``: describeMObject and listMObjects.
- ``positions``: opaque stream positions for paged reads.

Call limits and fault rules are in ``leadsync.limits``. Reading a ``leadRecord`` is
``leadsync.soap.record_reader``; namespaces, signing, escaping, the one hardened parser and
the fault-code catalogue are the wire kit ``leadsync.mktows``, shared with the client.
Nothing here knows HTTP, XML, JSON or SQL.
"""
