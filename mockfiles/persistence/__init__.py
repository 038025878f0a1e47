"""State that survives a restart (``--data-dir``): the records of every joined store written
through to SQLite, their large byte sequences to content-addressed files. docs/persistence.md."""
