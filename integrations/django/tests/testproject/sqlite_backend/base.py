"""SQLite as a stand-in for ps-web's PostgreSQL, with several writers at once (the test
project's processes and the app's delivery threads): WAL, so readers never block the writer,
and BEGIN IMMEDIATE, so a transaction that reads before it writes waits for the write lock
instead of failing with "database is locked" (SQLite does not wait on a lock upgrade)."""
from django.db.backends.sqlite3 import base


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        return connection

    def _start_transaction_under_autocommit(self):
        self.cursor().execute("BEGIN IMMEDIATE")
