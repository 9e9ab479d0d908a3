"""The setup wizard: questions that end in a checked, previewed, scheduled job.

Modules by concept: `prompts` (asking and printing; Ctrl-C/Ctrl-D cancel),
`context` (what every step is given), `datasets` (what the pools hold),
`sshcheck` and `remote` (live checks of a remote side), `target` (the
destination dataset), `options`, `schedule`, `questions` (the order of the
questions), `draft` (answers to a job mapping), `preview`, `flows` (create,
edit), `manage` (run, schedule, unschedule, list, logs) and `envcheck`.
Every command the wizard runs goes through the Executor.
"""
