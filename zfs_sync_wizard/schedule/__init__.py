"""When jobs run: this tool's entries in the user's crontab (cron)."""
