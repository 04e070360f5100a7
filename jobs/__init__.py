"""Background jobs, run by the clock process (``python -m jobs.clock``)."""
