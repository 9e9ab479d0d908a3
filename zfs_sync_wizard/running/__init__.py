"""Running a job: `execute` is the only module that starts processes;
`runner` puts one run's steps in order (check, list, resume partials, plan,
snapshot, send, verify, holds, prune); the others are those steps and the
run's lock, records and progress."""
