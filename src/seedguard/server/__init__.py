"""The seedguard server: device accounts, the envelope vault, and guess-limited password
hardening (RFC 9497 OPRF). All state is in the database (SQLite or PostgreSQL), so any number
of processes may serve one database. See docs/server.md and docs/api.md."""

from seedguard import extras

extras.require("server")  # before any module here imports FastAPI or SQLAlchemy
