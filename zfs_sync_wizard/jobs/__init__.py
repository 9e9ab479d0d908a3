"""Job files: the YAML schema and its validation, the names users type,
where files live, and writing them atomically.  Pure apart from reading and
writing the job files themselves; starts no process."""
