"""The web console under /console (docs/console.md): server-rendered pages to look at and
operate the lead database, for the people listed by ``leadsync console add-user``."""
