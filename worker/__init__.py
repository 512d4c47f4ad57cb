"""Celery workers: claim a job, run core's trainer, report. Thin by design."""
