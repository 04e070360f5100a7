"""Gunicorn settings for Heroku-style platforms (read by the Procfile's ``web`` command).

The platform's router gives a request 30 seconds and a stopping dyno 30 seconds after
SIGTERM; both of our limits sit under that, so a slow request is ended by us, with a log
line, and a deploy never ends with a SIGKILL mid-request.
"""

import os

from gunicorn.glogging import Logger

from service.logs import RedactingFormatter

# The platform says which port to answer on; 8000 for a local run.
bind = [f"0.0.0.0:{os.environ.get('PORT', '8000')}"]
# Heroku's Python buildpack sets WEB_CONCURRENCY from the dyno's memory.
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Sync workers by default, because then ``timeout`` caps each request: one still running
# after 20 s is ended by us, with a log line, before the router gives up at 30 s. Setting
# GUNICORN_THREADS above 1 switches to threaded workers (more requests per worker), where
# ``timeout`` only catches a hung worker.
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = 20
graceful_timeout = 15  # on SIGTERM, requests in flight get 15 s (the platform waits 30 s)
keepalive = 5  # the router reuses connections to the dyno

# Container file systems can stall the worker heartbeat file; memory never does.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

# One line per request on stdout. The path only (%(U)s), never the query string or the
# referrer, which can hold a phone number (dashboard searches, the simulator's phone);
# the router's request id ties the line to the platform's router log.
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms request_id=%({x-request-id}i)s "%(a)s"'


class RedactingLogger(Logger):  # type: ignore[misc]
    """Gunicorn's logger with phone numbers masked in every line, tracebacks included."""

    def setup(self, cfg):  # type: ignore[no-untyped-def]
        """Set up as gunicorn does, then mask numbers in what each handler writes."""
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                formatter = handler.formatter
                fmt = formatter._fmt if formatter is not None else None
                datefmt = formatter.datefmt if formatter is not None else None
                handler.setFormatter(RedactingFormatter(fmt, datefmt))


logger_class = RedactingLogger
