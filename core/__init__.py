"""Cornu's own logic: the job contract (spec), the torch engine and the Redis store."""
